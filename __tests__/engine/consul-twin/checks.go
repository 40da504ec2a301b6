// The services of the agent's config and their HTTP checks, run for real against what listens in the pod, as Consul
// runs them (agent/checks/check.go, CheckHTTP): a check is critical until its first run (agent/config/builder.go
// leaves a check's initial status to api.HealthCritical), 2xx is passing, 429 warning, anything else critical, and a
// request that outlives the check's timeout is critical. A check of any other kind stops the agent: not modelled.
package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

type httpCheck struct {
	state    checkState
	url      string
	interval time.Duration
	timeout  time.Duration
}

type localServices struct {
	mu       sync.Mutex
	services []serviceState
	checks   []*httpCheck
}

func durationAt(raw interface{}, field string, fallback time.Duration) time.Duration {
	text, ok := raw.(string)
	if !ok {
		return fallback
	}
	value, err := time.ParseDuration(text)
	if err != nil {
		fail("failed to parse %s: time: invalid duration %q", field, text)
	}
	return value
}

func servicesOf(config map[string]interface{}) *localServices {
	local := &localServices{}
	raw, _ := lookup(config, "services")
	list, _ := raw.([]interface{})
	for i, item := range list {
		service, _ := item.(map[string]interface{})
		name, _ := service["name"].(string)
		id, _ := service["id"].(string)
		if id == "" {
			id = name
		}
		port, _ := service["port"].(float64)
		address, _ := service["address"].(string)
		var tags []string
		if rawTags, ok := service["tags"].([]interface{}); ok {
			for _, tag := range rawTags {
				tags = append(tags, tag.(string))
			}
		}
		local.services = append(local.services, serviceState{ID: id, Service: name, Tags: tags, Port: int(port), Address: address})
		checks, _ := service["checks"].([]interface{})
		if single, ok := service["check"].(map[string]interface{}); ok {
			checks = append(checks, single)
		}
		for j, rawCheck := range checks {
			check, _ := rawCheck.(map[string]interface{})
			url, isHTTP := check["http"].(string)
			if !isHTTP {
				fail("consul twin: services[%d].checks[%d] is not an HTTP check; only HTTP checks are modelled", i, j)
			}
			checkID, _ := check["id"].(string)
			if checkID == "" {
				checkID = "service:" + id
			}
			checkName, _ := check["name"].(string)
			field := fmt.Sprintf("services[%d].checks[%d]", i, j)
			local.checks = append(local.checks, &httpCheck{
				state:    checkState{CheckID: checkID, Name: checkName, Status: "critical", ServiceID: id},
				url:      url,
				interval: durationAt(check["interval"], field+".interval", 10*time.Second),
				timeout:  durationAt(check["timeout"], field+".timeout", 10*time.Second),
			})
		}
	}
	return local
}

// run runs each check at its interval, the first at once.
func (l *localServices) run() {
	for _, check := range l.checks {
		go func(check *httpCheck) {
			client := &http.Client{Timeout: check.timeout}
			for {
				status, output := "critical", ""
				response, err := client.Get(check.url)
				if err != nil {
					output = err.Error()
				} else {
					body, _ := io.ReadAll(io.LimitReader(response.Body, 4096))
					response.Body.Close()
					output = fmt.Sprintf("HTTP GET %s: %s Output: %s", check.url, response.Status, body)
					switch {
					case response.StatusCode >= 200 && response.StatusCode < 300:
						status = "passing"
					case response.StatusCode == 429:
						status = "warning"
					}
				}
				l.mu.Lock()
				check.state.Status, check.state.Output = status, output
				l.mu.Unlock()
				time.Sleep(check.interval)
			}
		}(check)
	}
}

func (l *localServices) snapshot() ([]serviceState, []checkState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var checks []checkState
	for _, check := range l.checks {
		checks = append(checks, check.state)
	}
	return append([]serviceState(nil), l.services...), checks
}
