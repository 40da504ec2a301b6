// A stand-in for consul-template (v0.43) as the lab's load balancers run it: `consul-template -config=FILE` with the
// rendered JSON config, in exec mode. Standard library only; the template engine is Go's text/template, as
// consul-template's is. It models, from consul-template's source:
//
//   - config: consul.address (plain HTTP), consul.token_file, consul.retry, log_level, max_stale (stale reads when > 0), kill_signal,
//     wait {min, max}, exec {command, reload_signal, kill_signal, kill_timeout, env.denylist}, template[] {source,
//     destination, create_dest_dirs, command, command_timeout}; any other key stops it (config/*.go);
//   - the token from CONSUL_TOKEN, else CONSUL_HTTP_TOKEN (config/consul.go); consul.token_file, read once at start,
//     takes its place when it holds one, and one that cannot be read stops it (Consul's api/api.go NewClient, which
//     consul-template's dependency/client_set.go hands the file to);
//   - the functions the lab's template uses: service "[tag.]name[@dc][|filter,...]" (dependency/health_service.go:
//     /v1/health/service/<name>?dc=&tag= with ?passing for the lone passing filter, instances sorted by node then
//     ID, each with the aggregate status of its checks), key, keyOrDefault and keyExists (dependency/kv_get.go),
//     parseJSON; each a blocking query (index, wait 60s) that re-renders on change;
//   - rendering: a template is written only once all its data has arrived; a change re-renders after the quiescence
//     of wait.min, at most wait.max after the first change (manager/runner.go); the template's command runs after
//     each render that changed the file;
//   - exec: the command starts once every template has rendered, without the variables the denylist names but with
//     what consul-template adds after it (childEnv: CONSUL_HTTP_ADDR, the token when it came from the environment,
//     CONSUL_HTTP_TOKEN_FILE, the SSL flags), gets reload_signal after a re-render, kill_signal when
//     consul-template stops (child/child.go).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "[ERR] (cli) "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s [INFO] "+format+"\n", append([]interface{}{time.Now().UTC().Format(time.RFC3339)}, args...)...)
}

type templateConfig struct {
	Source         string   `json:"source"`
	Destination    string   `json:"destination"`
	CreateDestDirs bool     `json:"create_dest_dirs"`
	Command        []string `json:"command"`
	CommandTimeout string   `json:"command_timeout"`
}

type config struct {
	Consul struct {
		Address   string `json:"address"`
		TokenFile string `json:"token_file"`
		Retry     struct {
			Enabled    bool   `json:"enabled"`
			Attempts   int    `json:"attempts"`
			Backoff    string `json:"backoff"`
			MaxBackoff string `json:"max_backoff"`
		} `json:"retry"`
	} `json:"consul"`
	LogLevel   string `json:"log_level"`
	MaxStale   string `json:"max_stale"`
	KillSignal string `json:"kill_signal"`
	Wait       struct {
		Min string `json:"min"`
		Max string `json:"max"`
	} `json:"wait"`
	Exec struct {
		Command      []string `json:"command"`
		ReloadSignal string   `json:"reload_signal"`
		KillSignal   string   `json:"kill_signal"`
		KillTimeout  string   `json:"kill_timeout"`
		Env          struct {
			Denylist []string `json:"denylist"`
		} `json:"env"`
	} `json:"exec"`
	Template []templateConfig `json:"template"`
}

var signals = map[string]syscall.Signal{"SIGHUP": syscall.SIGHUP, "SIGTERM": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT,
	"SIGINT": syscall.SIGINT, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2}

func duration(text, field string) time.Duration {
	value, err := time.ParseDuration(text)
	if err != nil {
		fail("%s: %v", field, err)
	}
	return value
}

func signalOf(name, field string) syscall.Signal {
	value, ok := signals[name]
	if !ok {
		fail("%s: the signal %q is not modelled", field, name)
	}
	return value
}

// HealthService is what `service` returns (dependency/health_service.go).
type HealthService struct {
	Node        string
	NodeAddress string
	Address     string
	ID          string
	Name        string
	Tags        []string
	Status      string
	Port        int
}

// data is what the blocking queries have fetched, by query path; a path not yet fetched is missing.
type data struct {
	mu      sync.Mutex
	results map[string][]byte // body, or nil for a 404
	watched map[string]bool
	changed chan struct{}
	fetch   func(path string)
}

func (d *data) get(path string) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	body, ok := d.results[path]
	if !d.watched[path] {
		d.watched[path] = true
		go d.fetch(path)
	}
	return body, ok
}

type missing struct{ path string }

func (m missing) Error() string { return "waiting for " + m.path }

var serviceQuery = regexp.MustCompile(`^((?P<tag>[[:word:]=:\.\-\_]+)\.)?(?P<name>[[:word:]\-\_]+)(@(?P<dc>[[:word:]\.\-\_]+))?$`)

var healthFilters = map[string]bool{"any": true, "passing": true, "warning": true, "critical": true, "maintenance": true}

func (d *data) service(stale bool) func(query string) ([]*HealthService, error) {
	return func(query string) ([]*HealthService, error) {
		filters := []string{}
		if parts := strings.SplitN(query, "|", 2); len(parts) == 2 {
			query, filters = parts[0], strings.Split(parts[1], ",")
		}
		for _, filter := range filters {
			if !healthFilters[filter] {
				return nil, fmt.Errorf("service %q: unknown health filter %q", query, filter)
			}
		}
		if len(filters) == 0 {
			filters = []string{"passing"}
		}
		match := serviceQuery.FindStringSubmatch(query)
		if match == nil {
			return nil, fmt.Errorf("service %q: not a valid service query", query)
		}
		tag, name, dc := match[serviceQuery.SubexpIndex("tag")], match[serviceQuery.SubexpIndex("name")], match[serviceQuery.SubexpIndex("dc")]
		path := "/v1/health/service/" + name + "?"
		if dc != "" {
			path += "dc=" + dc + "&"
		}
		if tag != "" {
			path += "tag=" + tag + "&"
		}
		if len(filters) == 1 && filters[0] == "passing" {
			path += "passing&"
		}
		if stale {
			path += "stale&"
		}
		body, ok := d.get(strings.TrimSuffix(path, "&"))
		if !ok {
			return nil, missing{path}
		}
		var entries []struct {
			Node    struct{ Node, Address string }
			Service struct {
				ID, Service, Address string
				Tags                 []string
				Port                 int
			}
			Checks []struct{ Status, CheckID string }
		}
		if err := json.Unmarshal(body, &entries); err != nil {
			return nil, fmt.Errorf("service %q: %v", query, err)
		}
		out := []*HealthService{}
		for _, entry := range entries {
			status := "passing"
			for _, check := range entry.Checks {
				switch {
				case check.CheckID == "_node_maintenance" || strings.HasPrefix(check.CheckID, "_service_maintenance:"):
					status = "maintenance"
				case check.Status == "critical" && status != "maintenance":
					status = "critical"
				case check.Status == "warning" && status == "passing":
					status = "warning"
				}
			}
			keep := false
			for _, filter := range filters {
				keep = keep || filter == "any" || filter == status
			}
			if !keep {
				continue
			}
			address := entry.Service.Address
			if address == "" {
				address = entry.Node.Address
			}
			out = append(out, &HealthService{Node: entry.Node.Node, NodeAddress: entry.Node.Address, Address: address,
				ID: entry.Service.ID, Name: entry.Service.Service, Tags: entry.Service.Tags, Status: status, Port: entry.Service.Port})
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Node != out[j].Node {
				return out[i].Node < out[j].Node
			}
			return out[i].ID < out[j].ID
		})
		return out, nil
	}
}

func (d *data) kv(stale bool) func(key string) ([]byte, bool, error) {
	return func(key string) ([]byte, bool, error) {
		path := "/v1/kv/" + key
		if stale {
			path += "?stale"
		}
		body, ok := d.get(path)
		if !ok {
			return nil, false, missing{path}
		}
		if body == nil {
			return nil, false, nil
		}
		var pairs []struct{ Value []byte }
		if err := json.Unmarshal(body, &pairs); err != nil || len(pairs) == 0 {
			return nil, false, fmt.Errorf("key %q: %v", key, err)
		}
		return pairs[0].Value, true, nil
	}
}

func main() {
	if len(os.Args) != 2 || !strings.HasPrefix(os.Args[1], "-config=") {
		fail("the consul-template twin models only `consul-template -config=FILE`, got %q", os.Args[1:])
	}
	path := strings.TrimPrefix(os.Args[1], "-config=")
	raw, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var cfg config
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&cfg); err != nil {
		fail("%s: %v (the twin models only the keys the lab's config uses)", path, err)
	}
	if len(cfg.Exec.Command) == 0 || len(cfg.Template) == 0 {
		fail("%s: the twin models exec mode with templates only", path)
	}
	token := os.Getenv("CONSUL_TOKEN")
	if token == "" {
		token = os.Getenv("CONSUL_HTTP_TOKEN")
	}
	// What consul-template adds to every child's environment (the exec command's and each template command's) after
	// the denylist has filtered its own: manager/runner.go childEnv, appended as EnvConfig.Custom, which
	// config/env.go Env() appends unfiltered. The token is there when it came from the environment.
	childEnv := []string{"CONSUL_HTTP_ADDR=" + cfg.Consul.Address}
	if token != "" {
		childEnv = append(childEnv, "CONSUL_HTTP_TOKEN="+token)
	}
	if cfg.Consul.TokenFile != "" {
		childEnv = append(childEnv, "CONSUL_HTTP_TOKEN_FILE="+cfg.Consul.TokenFile)
	}
	// consul.ssl's defaults (config/ssl.go Finalize): not enabled, verify on.
	childEnv = append(childEnv, "CONSUL_HTTP_SSL=false", "CONSUL_HTTP_SSL_VERIFY=true")
	if cfg.Consul.TokenFile != "" {
		raw, err := os.ReadFile(cfg.Consul.TokenFile)
		if err != nil {
			fail("Error loading token file %s : %s", cfg.Consul.TokenFile, err)
		}
		if fromFile := strings.TrimSpace(string(raw)); fromFile != "" {
			token = fromFile
		}
	}
	stale := cfg.MaxStale != "" && duration(cfg.MaxStale, "max_stale") > 0
	waitMin, waitMax := duration(cfg.Wait.Min, "wait.min"), duration(cfg.Wait.Max, "wait.max")
	reload := signalOf(cfg.Exec.ReloadSignal, "exec.reload_signal")
	childKill := signalOf(cfg.Exec.KillSignal, "exec.kill_signal")
	selfKill := signalOf(cfg.KillSignal, "kill_signal")
	base := "http://" + cfg.Consul.Address

	d := &data{results: map[string][]byte{}, watched: map[string]bool{}, changed: make(chan struct{}, 1)}
	client := &http.Client{Timeout: 75 * time.Second}
	d.fetch = func(path string) {
		var index string
		backoff := 250 * time.Millisecond
		for {
			separator := "?"
			if strings.Contains(path, "?") {
				separator = "&"
			}
			request, _ := http.NewRequest("GET", base+path+separator+"index="+index+"&wait=60s", nil)
			if token != "" {
				request.Header.Set("X-Consul-Token", token)
			}
			response, err := client.Do(request)
			if err != nil {
				logf("(view) %s: %v; retrying in %s", path, err, backoff)
				time.Sleep(backoff)
				if backoff *= 2; backoff > 30*time.Second {
					backoff = 30 * time.Second
				}
				continue
			}
			body, _ := io.ReadAll(response.Body)
			response.Body.Close()
			if response.StatusCode != 200 && response.StatusCode != 404 {
				logf("(view) %s: %d %s; retrying in %s", path, response.StatusCode, bytes.TrimSpace(body), backoff)
				time.Sleep(backoff)
				if backoff *= 2; backoff > 30*time.Second {
					backoff = 30 * time.Second
				}
				continue
			}
			backoff = 250 * time.Millisecond
			if response.StatusCode == 404 {
				body = nil
			}
			newIndex := response.Header.Get("X-Consul-Index")
			d.mu.Lock()
			previous, had := d.results[path]
			d.results[path] = body
			d.mu.Unlock()
			if !had || !bytes.Equal(previous, body) {
				select {
				case d.changed <- struct{}{}:
				default:
				}
			}
			// An index that went back is a reset (dependency/dependency.go: index 0 then).
			old, _ := strconv.ParseUint(index, 10, 64)
			if next, _ := strconv.ParseUint(newIndex, 10, 64); next < old {
				newIndex = "0"
			}
			index = newIndex
		}
	}

	kv := d.kv(stale)
	funcs := template.FuncMap{
		"service": d.service(stale),
		"key": func(key string) (string, error) {
			value, found, err := kv(key)
			if err == nil && !found {
				// dependency/kv_get.go: `key` blocks until the key exists.
				return "", missing{"/v1/kv/" + key}
			}
			return string(value), err
		},
		"keyOrDefault": func(key, fallback string) (string, error) {
			value, found, err := kv(key)
			if err != nil || !found {
				return fallback, err
			}
			return string(value), nil
		},
		"keyExists": func(key string) (bool, error) {
			_, found, err := kv(key)
			return found, err
		},
		"parseJSON": func(text string) (interface{}, error) {
			if text == "" {
				return map[string]interface{}{}, nil
			}
			var value interface{}
			err := json.Unmarshal([]byte(text), &value)
			return value, err
		},
	}
	type compiled struct {
		config   templateConfig
		template *template.Template
		rendered bool
	}
	var templates []*compiled
	for _, t := range cfg.Template {
		source, err := os.ReadFile(t.Source)
		if err != nil {
			fail("template %s: %v", t.Source, err)
		}
		parsed, err := template.New(t.Source).Funcs(funcs).Option("missingkey=error").Parse(string(source))
		if err != nil {
			fail("template %s: %v", t.Source, err)
		}
		templates = append(templates, &compiled{config: t, template: parsed})
	}

	var child *exec.Cmd
	childExited := make(chan error, 1)
	startChild := func() {
		command := exec.Command(cfg.Exec.Command[0], cfg.Exec.Command[1:]...)
		for _, variable := range os.Environ() {
			name := strings.SplitN(variable, "=", 2)[0]
			denied := false
			for _, pattern := range cfg.Exec.Env.Denylist {
				if matched, _ := filepath.Match(pattern, name); matched {
					denied = true
				}
			}
			if !denied {
				command.Env = append(command.Env, variable)
			}
		}
		command.Env = append(command.Env, childEnv...)
		command.Stdout, command.Stderr = os.Stdout, os.Stderr
		if err := command.Start(); err != nil {
			fail("(child) spawning: %v", err)
		}
		logf("(child) spawning: %s", strings.Join(cfg.Exec.Command, " "))
		child = command
		go func() { childExited <- command.Wait() }()
	}

	renderAll := func() {
		changedAny := false
		for _, t := range templates {
			var out bytes.Buffer
			if err := t.template.Execute(&out, nil); err != nil {
				// Data not fetched yet: the template waits (its queries were started by this execution).
				if strings.Contains(err.Error(), "waiting for ") {
					continue
				}
				fail("(runner) rendering %s: %v", t.config.Source, err)
			}
			current, _ := os.ReadFile(t.config.Destination)
			if t.rendered && bytes.Equal(current, out.Bytes()) {
				continue
			}
			if t.config.CreateDestDirs {
				os.MkdirAll(filepath.Dir(t.config.Destination), 0o755)
			}
			if err := os.WriteFile(t.config.Destination, out.Bytes(), 0o644); err != nil {
				fail("(runner) writing %s: %v", t.config.Destination, err)
			}
			logf("(runner) rendered %q => %q", t.config.Source, t.config.Destination)
			t.rendered = true
			changedAny = true
			if len(t.config.Command) > 0 {
				timeout := 30 * time.Second
				if t.config.CommandTimeout != "" {
					timeout = duration(t.config.CommandTimeout, "template.command_timeout")
				}
				command := exec.Command(t.config.Command[0], t.config.Command[1:]...)
				// A template command has no denylist of its own here: the whole environment, then childEnv.
				command.Env = append(os.Environ(), childEnv...)
				command.Stdout, command.Stderr = os.Stdout, os.Stderr
				done := make(chan error, 1)
				command.Start()
				go func() { done <- command.Wait() }()
				select {
				case err := <-done:
					if err != nil {
						fail("(runner) the template command %q failed: %v", t.config.Command, err)
					}
				case <-time.After(timeout):
					command.Process.Kill()
					fail("(runner) the template command %q timed out after %s", t.config.Command, timeout)
				}
			}
		}
		all := true
		for _, t := range templates {
			all = all && t.rendered
		}
		switch {
		case all && child == nil:
			startChild()
		case changedAny && child != nil:
			logf("(child) receiving signal %q", cfg.Exec.ReloadSignal)
			child.Process.Signal(reload)
		}
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, selfKill, syscall.SIGINT, syscall.SIGTERM)
	renderAll()
	var quiet, deadline <-chan time.Time
	for {
		select {
		case <-d.changed:
			// manager/runner.go: wait for wait.min of quiet, and no longer than wait.max in all.
			quiet = time.After(waitMin)
			if deadline == nil {
				deadline = time.After(waitMax)
			}
		case <-quiet:
			quiet, deadline = nil, nil
			renderAll()
		case <-deadline:
			quiet, deadline = nil, nil
			renderAll()
		case err := <-childExited:
			fail("(child) the command exited: %v", err)
		case <-stop:
			if child != nil {
				child.Process.Signal(childKill)
				select {
				case <-childExited:
				case <-time.After(duration(cfg.Exec.KillTimeout, "exec.kill_timeout")):
					child.Process.Kill()
				}
			}
			os.Exit(0)
		}
	}
}
