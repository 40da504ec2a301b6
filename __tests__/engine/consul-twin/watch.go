// Watches of the agent's config, run as Consul runs a watch with an `args` handler (api/watch/funcs.go for the
// `service` type's blocking query of /v1/health/service/<name>; agent/watch_handler.go makeWatchHandler for the run:
// the handler gets the result as JSON on stdin, the agent's environment plus CONSUL_INDEX, and runs again each time
// the index moves). Only `type: service` with `args` is modelled; anything else stops the agent.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

type serviceWatch struct {
	service  string
	token    string
	args     []string
	passing  bool
	tag      string
	position int
}

func watchesOf(config map[string]interface{}) []serviceWatch {
	raw, _ := lookup(config, "watches")
	list, _ := raw.([]interface{})
	var watches []serviceWatch
	for i, item := range list {
		watch, _ := item.(map[string]interface{})
		for key := range watch {
			switch key {
			case "type", "service", "token", "args", "passingonly", "passing_only", "tag":
			default:
				fail("consul twin: watches[%d].%s is not modelled", i, key)
			}
		}
		if kind, _ := watch["type"].(string); kind != "service" {
			fail("consul twin: watches[%d] is of type %q; only `service` watches are modelled", i, kind)
		}
		rawArgs, ok := watch["args"].([]interface{})
		if !ok || len(rawArgs) == 0 {
			fail("consul twin: watches[%d] has no args handler; only args handlers are modelled", i)
		}
		w := serviceWatch{position: i}
		w.service, _ = watch["service"].(string)
		w.token, _ = watch["token"].(string)
		w.tag, _ = watch["tag"].(string)
		w.passing, _ = watch["passingonly"].(bool)
		for _, arg := range rawArgs {
			w.args = append(w.args, arg.(string))
		}
		watches = append(watches, w)
	}
	return watches
}

// run asks the agent's own HTTP API, as a watch plan does, and runs the handler on every new index.
func (w serviceWatch) run(apiBase string) {
	var last uint64
	client := &http.Client{Timeout: 6 * time.Minute}
	for {
		url := fmt.Sprintf("%s/v1/health/service/%s?index=%d&wait=5m", apiBase, w.service, last)
		if w.passing {
			url += "&passing"
		}
		if w.tag != "" {
			url += "&tag=" + w.tag
		}
		request, _ := http.NewRequest("GET", url, nil)
		if w.token != "" {
			request.Header.Set("X-Consul-Token", w.token)
		}
		response, err := client.Do(request)
		if err != nil {
			logf("agent.watch: Watch errored: type=service error=%q retry=5s", err.Error())
			time.Sleep(5 * time.Second)
			continue
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		if response.StatusCode != 200 {
			logf("agent.watch: Watch errored: type=service error=\"Unexpected response code: %d (%s)\" retry=5s", response.StatusCode, bytes.TrimSpace(body))
			time.Sleep(5 * time.Second)
			continue
		}
		index, _ := strconv.ParseUint(response.Header.Get("X-Consul-Index"), 10, 64)
		// api/watch/plan.go: a result at the same index is not handed on; an index that went back resets.
		if index == last {
			continue
		}
		last = index
		handler := exec.Command(w.args[0], w.args[1:]...)
		handler.Env = append(os.Environ(), "CONSUL_INDEX="+strconv.FormatUint(index, 10))
		handler.Stdin = bytes.NewReader(body)
		output, err := handler.CombinedOutput()
		if err != nil {
			logf("agent: Failed to run watch handler: handler=%q error=%q output=%q", w.args, err.Error(), output)
		} else {
			logf("agent.watch: handler ran: index=%d output=%q", index, bytes.TrimSpace(output))
		}
	}
}
