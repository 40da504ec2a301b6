// render-template executes a consul-template template with Go's text/template (the engine consul-template
// uses) over a JSON fixture that stands in for Consul, and prints the result. Standard library only.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

const usage = `usage: render-template TEMPLATE FIXTURE.json

Executes TEMPLATE as consul-template would and prints the result on stdout.
FIXTURE.json stands in for Consul:

  {
    "datacenter": "dc1",                       (optional; the local datacenter, default "dc1")
    "services": {                              (service name -> instances, as /v1/health/service returns them)
      "test_hoge_dev_jp": [
        {"Node": "dev1004", "Address": "10.0.1.4", "Port": 80, "ID": "web",
         "Tags": ["web"], "Status": "passing", "Datacenter": "dc1"}
      ]
    },
    "kv": {"web/test.hoge.dev.jp/maintenance/key": "off"}
  }

Status is the instance's aggregate check status: passing, warning, critical or maintenance.
Datacenter defaults to the fixture's datacenter.

Functions, with consul-template's signatures and result fields:
  service "[tag.]name[@dc][|filter,...]"   []HealthService (Node, NodeAddress, Address, ID, Name, Tags, Status, Port)
                                           filter defaults to passing; "any" returns every instance
  key "path"                               string; fails when the key is missing (consul-template would block)
  keyOrDefault "path" "default"            string
  keyExists "path"                         bool
  ls "prefix"                              []KeyPair (Key relative to prefix, Path, Value); direct children only
  tree "prefix"                            []KeyPair, recursively
  toLower, toUpper, join, contains         as in consul-template
`

type HealthService struct {
	Node        string
	NodeAddress string
	Address     string
	ID          string
	Name        string
	Tags        []string
	Status      string
	Port        int
	Datacenter  string
}

type KeyPair struct {
	Path  string
	Key   string
	Value string
}

type fixture struct {
	Datacenter string                     `json:"datacenter"`
	Services   map[string][]HealthService `json:"services"`
	KV         map[string]string          `json:"kv"`
}

// The query grammar of consul-template's service function.
var serviceQuery = regexp.MustCompile(`^((?P<tag>[[:word:]=:\.\-\_]+)\.)?(?P<name>[[:word:]\-\_]+)(@(?P<dc>[[:word:]\.\-\_]+))?$`)

var validStatus = map[string]bool{"any": true, "passing": true, "warning": true, "critical": true, "maintenance": true}

func (f *fixture) service(query string, options ...string) ([]*HealthService, error) {
	filters := []string{}
	if parts := strings.SplitN(query, "|", 2); len(parts) == 2 {
		query = parts[0]
		filters = strings.Split(parts[1], ",")
	}
	// The article's older form: service "name" "passing".
	for _, option := range options {
		filters = append(filters, strings.Split(option, ",")...)
	}
	for _, filter := range filters {
		if !validStatus[filter] {
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
	if dc == "" {
		dc = f.Datacenter
	}
	result := []*HealthService{}
	for _, instance := range f.Services[name] {
		instance := instance
		if instance.Name == "" {
			instance.Name = name
		}
		if instance.Datacenter == "" {
			instance.Datacenter = f.Datacenter
		}
		if instance.NodeAddress == "" {
			instance.NodeAddress = instance.Address
		}
		if instance.Datacenter != dc || (tag != "" && !contains(instance.Tags, tag)) || !statusMatches(instance.Status, filters) {
			continue
		}
		result = append(result, &instance)
	}
	// consul-template returns instances sorted by node, then ID.
	sort.SliceStable(result, func(i, j int) bool {
		if result[i].Node != result[j].Node {
			return result[i].Node < result[j].Node
		}
		return result[i].ID < result[j].ID
	})
	return result, nil
}

func statusMatches(status string, filters []string) bool {
	for _, filter := range filters {
		if filter == "any" || filter == status {
			return true
		}
	}
	return false
}

func contains(values []string, wanted string) bool {
	for _, value := range values {
		if value == wanted {
			return true
		}
	}
	return false
}

func (f *fixture) key(path string) (string, error) {
	value, ok := f.KV[path]
	if !ok {
		return "", fmt.Errorf("key %q is missing; consul-template would block until it exists", path)
	}
	return value, nil
}

func (f *fixture) keyOrDefault(path, fallback string) string {
	if value, ok := f.KV[path]; ok {
		return value
	}
	return fallback
}

func (f *fixture) keyExists(path string) bool {
	_, ok := f.KV[path]
	return ok
}

func (f *fixture) pairs(prefix string, recursive bool) []*KeyPair {
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	result := []*KeyPair{}
	for path, value := range f.KV {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		relative := strings.TrimPrefix(path, prefix)
		if relative == "" || (!recursive && strings.Contains(relative, "/")) {
			continue
		}
		result = append(result, &KeyPair{Path: path, Key: relative, Value: value})
	}
	sort.Slice(result, func(i, j int) bool { return result[i].Path < result[j].Path })
	return result
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	source, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("cannot read the template: %v", err)
	}
	data, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("cannot read the fixture: %v", err)
	}
	f := &fixture{}
	decoder := json.NewDecoder(strings.NewReader(string(data)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(f); err != nil {
		fail("the fixture is not valid (see usage): %v", err)
	}
	if f.Datacenter == "" {
		f.Datacenter = "dc1"
	}
	funcs := template.FuncMap{
		"service":      f.service,
		"key":          f.key,
		"keyOrDefault": f.keyOrDefault,
		"keyExists":    f.keyExists,
		"ls":           func(prefix string) []*KeyPair { return f.pairs(prefix, false) },
		"tree":         func(prefix string) []*KeyPair { return f.pairs(prefix, true) },
		"toLower":      strings.ToLower,
		"toUpper":      strings.ToUpper,
		"join":         func(sep string, values []string) string { return strings.Join(values, sep) },
		"contains":     func(wanted string, values []string) bool { return contains(values, wanted) },
		// As consul-template's: an empty string is an empty object.
		"parseJSON": func(text string) (any, error) {
			if text == "" {
				return map[string]any{}, nil
			}
			var data any
			err := json.Unmarshal([]byte(text), &data)
			return data, err
		},
	}
	tmpl, err := template.New(os.Args[1]).Funcs(funcs).Option("missingkey=error").Parse(string(source))
	if err != nil {
		fail("cannot parse the template: %v", err)
	}
	if err := tmpl.Execute(os.Stdout, nil); err != nil {
		fail("cannot render the template: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "render-template: "+format+"\n", args...)
	os.Exit(1)
}
