// The catalog writes the lab makes or must withstand, as Consul 1.20 handles them:
//
//   - PUT /v1/catalog/register and /v1/catalog/deregister (agent/consul/catalog_endpoint.go): a registration needs
//     service:write on its service and node:write when it creates the node or changes its address
//     (vetRegisterWithACL); a deregistration is allowed by node:write, else by service:write on the service it removes
//     (vetDeregisterWithACL). A node no agent runs (the lab's external service) keeps what is written. A write to an
//     agent's own service lasts until that agent's anti-entropy puts its own definition back, within ae_interval
//     (agent/ae/ae.go: a full sync every minute for a cluster this size; the twin takes the minute).
//   - GET /v1/catalog/node/<node>: a node and its services, or null.
//   - Prepared queries (agent/prepared_query_endpoint.go): create (query:write on the name), list, read, execute by
//     ID or name: the service's instances, `!tag` excluding, only_passing leaving out warning ones too; the query's
//     DNS TTL. Templates, failover and near are not modelled (a query that sets them is refused).
//   - The autopilot configuration (operator:read to read, operator:write to write), kept as written.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

const antiEntropyInterval = time.Minute

// catalogEdit is a catalog write to an agent's own service: what the catalog shows instead (nil: nothing) until the
// agent's next full sync.
type catalogEdit struct {
	Service *serviceState
	Until   time.Time
}

type preparedQuery struct {
	ID      string
	Name    string
	Token   string `json:",omitempty"`
	Service struct {
		Service     string
		OnlyPassing bool
		Tags        []string
	}
	DNS struct {
		TTL string
	}
}

type catalogService struct {
	ID      string
	Service string
	Tags    []string
	Port    int
	Address string
}

type registration struct {
	Node           string
	Address        string
	Datacenter     string
	Service        *catalogService
	SkipNodeUpdate bool
}

func (s *replicated) ensureCatalog() {
	if s.External == nil {
		s.External = map[string]member{}
	}
	if s.Edits == nil {
		s.Edits = map[string]catalogEdit{}
	}
	if s.Queries == nil {
		s.Queries = map[string]preparedQuery{}
	}
}

// register applies a catalog registration after Consul's ACL vetting; "" or the refusal.
func (a *api) register(z *authorizer, body registration, agentNodes map[string]member) (int, string) {
	c := a.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.state
	s.ensureCatalog()
	if body.Node == "" {
		return http.StatusBadRequest, "Must provide node"
	}
	if body.Service != nil {
		if body.Service.Service == "" {
			return http.StatusBadRequest, "Must provide service name (Service.Service) with ID"
		}
		if body.Service.ID == "" {
			body.Service.ID = body.Service.Service
		}
		if !z.allows("service", body.Service.Service, "write") {
			return http.StatusForbidden, z.denied("service", body.Service.Service, "write")
		}
	}
	agent, isAgent := agentNodes[body.Node]
	external, isExternal := s.External[body.Node]
	address := external.Address
	if isAgent {
		address = agent.Address
	}
	changesNode := (!isAgent && !isExternal) || (!body.SkipNodeUpdate && body.Address != address)
	if changesNode && !z.allows("node", body.Node, "write") {
		return http.StatusForbidden, z.denied("node", body.Node, "write")
	}
	s.Index++
	if isAgent {
		if body.Service != nil {
			service := serviceState(*body.Service)
			s.Edits[body.Node+"/"+body.Service.ID] = catalogEdit{Service: &service, Until: time.Now().Add(antiEntropyInterval)}
		}
		return http.StatusOK, ""
	}
	if !isExternal {
		external = member{Node: body.Node, Datacenter: a.datacenter, External: true}
	}
	if !body.SkipNodeUpdate || !isExternal {
		external.Address = body.Address
	}
	if body.Service != nil {
		kept := []serviceState{}
		for _, service := range external.Services {
			if service.ID != body.Service.ID {
				kept = append(kept, service)
			}
		}
		external.Services = append(kept, serviceState(*body.Service))
	}
	s.External[body.Node] = external
	return http.StatusOK, ""
}

func (a *api) deregister(z *authorizer, node, serviceID, checkID string, agentNodes map[string]member) (int, string) {
	c := a.cluster
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.state
	s.ensureCatalog()
	agent, isAgent := agentNodes[node]
	external, isExternal := s.External[node]
	if !z.allows("node", node, "write") {
		switch {
		case serviceID != "":
			services := external.Services
			if isAgent {
				services = agent.Services
			}
			name := ""
			for _, service := range services {
				if service.ID == serviceID {
					name = service.Service
				}
			}
			if name == "" {
				return http.StatusOK, ""
			}
			if !z.allows("service", name, "write") {
				return http.StatusForbidden, z.denied("service", name, "write")
			}
		case checkID != "":
			return http.StatusNotImplemented, "the consul twin does not model deregistering a check"
		default:
			return http.StatusForbidden, z.denied("node", node, "write")
		}
	}
	s.Index++
	switch {
	case isAgent && serviceID != "":
		s.Edits[node+"/"+serviceID] = catalogEdit{Until: time.Now().Add(antiEntropyInterval)}
	case isAgent:
		return http.StatusNotImplemented, "the consul twin does not model deregistering a live agent's node"
	case isExternal && serviceID != "":
		kept := []serviceState{}
		for _, service := range external.Services {
			if service.ID != serviceID {
				kept = append(kept, service)
			}
		}
		external.Services = kept
		s.External[node] = external
	case isExternal:
		delete(s.External, node)
	}
	return http.StatusOK, ""
}

// withEdits is an agent's services as the catalog shows them: each catalog write still in force over its own.
func (s *replicated) withEdits(m member) []serviceState {
	out := []serviceState{}
	seen := map[string]bool{}
	for _, service := range m.Services {
		seen[service.ID] = true
		edit, edited := s.Edits[m.Node+"/"+service.ID]
		switch {
		case !edited || time.Now().After(edit.Until):
			out = append(out, service)
		case edit.Service != nil:
			out = append(out, *edit.Service)
		}
	}
	for key, edit := range s.Edits {
		if strings.HasPrefix(key, m.Node+"/") && edit.Service != nil && !seen[edit.Service.ID] && time.Now().Before(edit.Until) {
			out = append(out, *edit.Service)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (a *api) catalogWrite(w http.ResponseWriter, r *http.Request, z *authorizer, path string) {
	agents := map[string]member{}
	for _, m := range a.cluster.liveMembers() {
		agents[m.Node] = m
	}
	var status int
	var message string
	switch path {
	case "register":
		var body registration
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		status, message = a.register(z, body, agents)
	case "deregister":
		var body struct{ Node, ServiceID, CheckID string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		status, message = a.deregister(z, body.Node, body.ServiceID, body.CheckID, agents)
	}
	if status != http.StatusOK {
		http.Error(w, message, status)
		return
	}
	writeJSON(w, 0, true)
}

func (a *api) catalogNode(w http.ResponseWriter, z *authorizer, node string) {
	for _, m := range a.registered() {
		if m.Node != node {
			continue
		}
		if !z.allows("node", node, "read") {
			break
		}
		services := map[string]interface{}{}
		for _, service := range m.Services {
			if z.allows("service", service.Service, "read") {
				services[service.ID] = map[string]interface{}{"ID": service.ID, "Service": service.Service,
					"Tags": nonNil(service.Tags), "Port": service.Port, "Address": service.Address}
			}
		}
		writeJSON(w, a.catalogIndex(a.registered()), map[string]interface{}{
			"Node":     map[string]interface{}{"Node": m.Node, "Address": m.Address, "Datacenter": m.Datacenter},
			"Services": services,
		})
		return
	}
	writeJSON(w, a.catalogIndex(a.registered()), nil)
}

func (a *api) queries(w http.ResponseWriter, r *http.Request, z *authorizer, path string) {
	c := a.cluster
	switch {
	case path == "" && r.Method == "POST":
		var query preparedQuery
		decoder := json.NewDecoder(r.Body)
		var raw map[string]interface{}
		if err := decoder.Decode(&raw); err != nil {
			http.Error(w, "Request decode failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		for key := range raw {
			switch key {
			case "Name", "Token", "Service", "DNS", "ID", "Session", "Tags":
			default:
				if value := raw[key]; value != nil && fmt.Sprint(value) != "" && fmt.Sprint(value) != "map[]" {
					http.Error(w, "the consul twin does not model a prepared query's "+key, http.StatusNotImplemented)
					return
				}
			}
		}
		encoded, _ := json.Marshal(raw)
		json.Unmarshal(encoded, &query)
		if !z.allows("query", query.Name, "write") {
			http.Error(w, z.denied("query", query.Name, "write"), http.StatusForbidden)
			return
		}
		c.mu.Lock()
		c.state.ensureCatalog()
		for _, existing := range c.state.Queries {
			if existing.Name == query.Name {
				c.mu.Unlock()
				http.Error(w, fmt.Sprintf("name %q aliases an existing query name", query.Name), http.StatusInternalServerError)
				return
			}
		}
		query.ID = uuid()
		c.state.Index++
		c.state.Queries[query.ID] = query
		c.mu.Unlock()
		writeJSON(w, 0, map[string]string{"ID": query.ID})
	case path == "" && r.Method == "GET":
		c.mu.Lock()
		list := []preparedQuery{}
		for _, query := range c.state.Queries {
			if z.allows("query", query.Name, "read") {
				list = append(list, query)
			}
		}
		c.mu.Unlock()
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		writeJSON(w, c.state.Index, list)
	case strings.HasSuffix(path, "/execute") && r.Method == "GET":
		entries, ttl, found := a.execute(z, strings.TrimSuffix(path, "/execute"))
		if !found {
			http.Error(w, "Query not found", http.StatusNotFound)
			return
		}
		writeJSON(w, 0, map[string]interface{}{"Nodes": entries, "DNS": map[string]string{"TTL": ttl}})
	case r.Method == "GET":
		c.mu.Lock()
		query, ok := c.state.Queries[path]
		c.mu.Unlock()
		if !ok {
			http.Error(w, "Query not found", http.StatusNotFound)
			return
		}
		writeJSON(w, c.state.Index, []preparedQuery{query})
	default:
		http.Error(w, "the consul twin does not model "+r.Method+" /v1/query/"+path, http.StatusNotImplemented)
	}
}

// execute runs a prepared query by ID or name with the token's rights (or the query's own token).
func (a *api) execute(z *authorizer, idOrName string) ([]map[string]interface{}, string, bool) {
	c := a.cluster
	c.mu.Lock()
	var query *preparedQuery
	for _, candidate := range c.state.Queries {
		if candidate.ID == idOrName || candidate.Name == idOrName {
			found := candidate
			query = &found
		}
	}
	if query != nil && query.Token != "" {
		if own := c.state.authorize(query.Token, c.defaultAllow); own != nil {
			z = own
		}
	}
	c.mu.Unlock()
	if query == nil {
		return nil, "", false
	}
	out := []map[string]interface{}{}
	for _, entry := range a.healthEntries(a.registered(), z, query.Service.Service, false) {
		service := entry["Service"].(map[string]interface{})
		tags := service["Tags"].([]string)
		keep := true
		for _, wanted := range query.Service.Tags {
			has := false
			for _, tag := range tags {
				has = has || strings.EqualFold(tag, strings.TrimPrefix(wanted, "!"))
			}
			if has == strings.HasPrefix(wanted, "!") {
				keep = false
			}
		}
		for _, check := range entry["Checks"].([]map[string]interface{}) {
			status := check["Status"]
			if status == "critical" || (query.Service.OnlyPassing && status == "warning") {
				keep = false
			}
		}
		if keep {
			out = append(out, entry)
		}
	}
	return out, query.DNS.TTL, true
}

func (a *api) autopilot(w http.ResponseWriter, r *http.Request, z *authorizer) {
	c := a.cluster
	switch r.Method {
	case "GET":
		if a.require(w, z, "operator", "", "read") {
			c.mu.Lock()
			defer c.mu.Unlock()
			writeJSON(w, 0, c.state.Autopilot)
		}
	case "PUT":
		if !a.require(w, z, "operator", "", "write") {
			return
		}
		var body map[string]interface{}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "Error parsing autopilot config: "+err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.state.Index++
		c.state.Autopilot = body
		c.mu.Unlock()
		writeJSON(w, 0, true)
	default:
		http.Error(w, "the consul twin does not model "+r.Method+" on the autopilot configuration", http.StatusNotImplemented)
	}
}
