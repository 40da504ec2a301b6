// The HTTP API the lab uses, answered as Consul 1.20 answers it (agent/http_register.go for the paths; the shapes of
// api/*.go): status, operator raft configuration, members, catalog, health, KV with blocking queries and
// X-Consul-Index, and the ACL endpoints the lab's bootstrap calls. A client agent forwards what it cannot answer
// itself to a server, and a follower forwards to the leader, as Consul's RPC does for a default-consistency read and
// for every write (agent/consul/rpc.go, forward). ACLs as acl.go describes. Every other path answers 501 naming the
// twin.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type api struct {
	cluster    *cluster
	server     bool
	datacenter string
	local      func() member
	// Whether the config sets `encrypt` (Serf's keyring), and ui_config.enabled.
	encrypted bool
	ui        bool

	catalog        sync.Mutex
	catalogSeen    string
	catalogCounter uint64
}

const forwardedHeader = "X-Consul-Twin-Forwarded"

func tokenOf(r *http.Request) string {
	if token := r.Header.Get("X-Consul-Token"); token != "" {
		return token
	}
	if bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); bearer != r.Header.Get("Authorization") {
		return bearer
	}
	return r.URL.Query().Get("token")
}

func writeJSON(w http.ResponseWriter, index uint64, value interface{}) {
	w.Header().Set("Content-Type", "application/json")
	if index > 0 {
		w.Header().Set("X-Consul-Index", strconv.FormatUint(index, 10))
		w.Header().Set("X-Consul-KnownLeader", "true")
	}
	json.NewEncoder(w).Encode(value)
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, get := r.URL.Path, r.Method == "GET"
	switch {
	case path == "/v1/status/leader" && get:
		a.viaServer(w, r, func() { a.statusLeader(w) })
	case path == "/v1/status/peers" && get:
		a.viaServer(w, r, func() { a.statusPeers(w) })
	case path == "/v1/agent/self" && get:
		me := a.local()
		if a.check(w, r, "agent", me.Node, "read") {
			writeJSON(w, 0, map[string]interface{}{
				"Config": map[string]interface{}{"NodeName": me.Node, "Server": me.Server, "Datacenter": a.datacenter},
				"Member": map[string]interface{}{"Name": me.Node, "Addr": me.Address, "Status": 1},
				// agent/agent.go Stats: Serf's own stats, where "encrypted" says whether gossip has a keyring.
				"Stats": map[string]interface{}{"serf_lan": map[string]string{"encrypted": strconv.FormatBool(a.encrypted)}},
			})
		}
	case path == "/v1/agent/members" && get:
		a.viaServer(w, r, func() { a.withAuthorizer(w, r, func(z *authorizer) { a.members(w, z) }) })
	case path == "/v1/operator/raft/configuration" && get:
		a.onLeader(w, r, func(z *authorizer) {
			if a.require(w, z, "operator", "", "read") {
				a.raftConfiguration(w)
			}
		})
	case path == "/v1/catalog/nodes" && get:
		a.onLeader(w, r, func(z *authorizer) { a.catalogNodes(w, z) })
	case path == "/v1/catalog/services" && get:
		a.onLeader(w, r, func(z *authorizer) { a.catalogServices(w, z) })
	case (path == "/v1/catalog/register" || path == "/v1/catalog/deregister") && r.Method == "PUT":
		a.onLeader(w, r, func(z *authorizer) { a.catalogWrite(w, r, z, strings.TrimPrefix(path, "/v1/catalog/")) })
	case strings.HasPrefix(path, "/v1/catalog/node/") && get:
		a.onLeader(w, r, func(z *authorizer) { a.catalogNode(w, z, strings.TrimPrefix(path, "/v1/catalog/node/")) })
	case path == "/v1/query" || strings.HasPrefix(path, "/v1/query/"):
		a.onLeader(w, r, func(z *authorizer) {
			a.queries(w, r, z, strings.TrimPrefix(strings.TrimPrefix(path, "/v1/query"), "/"))
		})
	case path == "/v1/operator/autopilot/health" && get:
		a.onLeader(w, r, func(z *authorizer) {
			if a.require(w, z, "operator", "", "read") {
				a.autopilotHealth(w)
			}
		})
	case path == "/v1/operator/autopilot/configuration":
		a.onLeader(w, r, func(z *authorizer) { a.autopilot(w, r, z) })
	case strings.HasPrefix(path, "/v1/catalog/service/") && get:
		a.onLeader(w, r, func(z *authorizer) { a.health(w, r, z, strings.TrimPrefix(path, "/v1/catalog/service/"), true) })
	case strings.HasPrefix(path, "/v1/health/service/") && get:
		a.onLeader(w, r, func(z *authorizer) { a.health(w, r, z, strings.TrimPrefix(path, "/v1/health/service/"), false) })
	case strings.HasPrefix(path, "/v1/kv/"):
		a.onLeader(w, r, func(z *authorizer) { a.kv(w, r, z, strings.TrimPrefix(path, "/v1/kv/")) })
	case strings.HasPrefix(path, "/v1/acl/"):
		a.onLeader(w, r, func(z *authorizer) { a.acl(w, r, z, strings.TrimPrefix(path, "/v1/acl/")) })
	case a.ui && (path == "/ui" || strings.HasPrefix(path, "/ui/")) && get:
		// The UI's assets need no token. Its index.html names the Ember app "consul-ui" (ui/packages/consul-ui/app/
		// index.html, <meta name="consul-ui/config/environment">); the twin serves only that page, saying what it is.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><meta name="consul-ui/config/environment" content="{}">`+
			`<title>Consul (twin)</title></head><body>The consul twin's stand-in for the Consul UI.</body></html>`)
	default:
		http.Error(w, fmt.Sprintf("the consul twin does not model %s %s", r.Method, path), http.StatusNotImplemented)
	}
}

// authorizerFor is the request's token's authorizer from this server's ACL state; nil with ACLs off.
func (a *api) authorizerFor(token string) (*authorizer, int, string) {
	c := a.cluster
	if !c.aclEnabled {
		return &authorizer{management: true}, http.StatusOK, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if z := c.state.authorize(token, c.defaultAllow); z != nil {
		return z, http.StatusOK, ""
	}
	return nil, http.StatusForbidden, "ACL not found"
}

// decide answers whether a token may do one thing: on a server from its ACL state, on a client by asking a server,
// as a client agent resolves tokens through the servers (agent/consul/acl_client.go).
func (a *api) decide(token, kind, name, need string) (int, string) {
	if !a.server {
		for _, address := range a.cluster.join {
			var verdict struct {
				Status  int
				Message string
			}
			request := map[string]string{"Token": token, "Kind": kind, "Name": name, "Need": need}
			if a.cluster.post(address, "/twin/acl", request, &verdict) == nil {
				return verdict.Status, verdict.Message
			}
		}
		return http.StatusInternalServerError, "No known Consul servers"
	}
	z, status, message := a.authorizerFor(token)
	if z == nil {
		return status, message
	}
	if !z.allows(kind, name, need) {
		return http.StatusForbidden, z.denied(kind, name, need)
	}
	return http.StatusOK, ""
}

// check refuses the request unless its token may do one thing, answering 403 as Consul does.
func (a *api) check(w http.ResponseWriter, r *http.Request, kind, name, need string) bool {
	status, message := a.decide(tokenOf(r), kind, name, need)
	if status != http.StatusOK {
		http.Error(w, message, status)
		return false
	}
	return true
}

func (a *api) require(w http.ResponseWriter, z *authorizer, kind, name, need string) bool {
	if z.allows(kind, name, need) {
		return true
	}
	http.Error(w, z.denied(kind, name, need), http.StatusForbidden)
	return false
}

func (a *api) withAuthorizer(w http.ResponseWriter, r *http.Request, answer func(*authorizer)) {
	z, status, message := a.authorizerFor(tokenOf(r))
	if z == nil {
		http.Error(w, message, status)
		return
	}
	answer(z)
}

// proxy sends the request on to an agent's server port and copies the answer back.
func (a *api) proxy(w http.ResponseWriter, r *http.Request, address string, extra string) bool {
	target := "http://" + a.cluster.rpcAddress(address) + r.URL.RequestURI()
	body, _ := io.ReadAll(r.Body)
	request, _ := http.NewRequest(r.Method, target, strings.NewReader(string(body)))
	request.Header = r.Header.Clone()
	request.Header.Set(forwardedHeader, "1")
	if extra != "" {
		request.Header.Set(extra, "1")
	}
	// A blocking query may wait up to its own wait time (Consul's maximum is 10 minutes).
	response, err := (&http.Client{Timeout: 11 * time.Minute}).Do(request)
	if err != nil {
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		return false
	}
	defer response.Body.Close()
	for key, values := range response.Header {
		w.Header()[key] = values
	}
	w.WriteHeader(response.StatusCode)
	io.Copy(w, response.Body)
	return true
}

// viaServer answers on a server, and sends a client's request to the first server of retry_join that answers.
func (a *api) viaServer(w http.ResponseWriter, r *http.Request, answer func()) {
	if a.server || r.Header.Get(forwardedHeader) != "" {
		answer()
		return
	}
	for _, address := range a.cluster.join {
		if a.proxy(w, r, address, "") {
			return
		}
	}
	// agent/consul/client.go: a client with no server to send to.
	http.Error(w, "No known Consul servers", http.StatusInternalServerError)
}

// onLeader answers on the leader with the token's authorizer; a follower forwards, and without a leader Consul says
// so.
func (a *api) onLeader(w http.ResponseWriter, r *http.Request, answer func(*authorizer)) {
	a.viaServer(w, r, func() {
		// A stale read (?stale) is answered by any server from its own state, leader or not.
		if _, stale := r.URL.Query()["stale"]; stale {
			a.withAuthorizer(w, r, answer)
			return
		}
		leader := a.cluster.leaderView()
		switch {
		case leader == a.cluster.self.Address:
			a.withAuthorizer(w, r, answer)
		case leader == "" || r.Header.Get(forwardedHeader+"-Leader") != "":
			http.Error(w, "No cluster leader", http.StatusInternalServerError)
		default:
			if !a.proxy(w, r, leader, forwardedHeader+"-Leader") {
				http.Error(w, "No cluster leader", http.StatusInternalServerError)
			}
		}
	})
}

func (a *api) statusLeader(w http.ResponseWriter) {
	leader := a.cluster.leaderView()
	if leader != "" {
		leader = a.cluster.rpcAddress(leader)
	}
	writeJSON(w, 0, leader)
}

func (a *api) statusPeers(w http.ResponseWriter) {
	a.cluster.mu.Lock()
	peers := []string{}
	for _, peer := range a.cluster.peers {
		peers = append(peers, a.cluster.rpcAddress(peer))
	}
	a.cluster.mu.Unlock()
	writeJSON(w, 0, peers)
}

func (a *api) members(w http.ResponseWriter, z *authorizer) {
	out := []map[string]interface{}{}
	for _, m := range a.cluster.liveMembers() {
		if !z.allows("node", m.Node, "read") {
			continue
		}
		status, role := 1, "node"
		if a.cluster.failed(m) {
			status = 4
		}
		if m.Server {
			role = "consul"
		}
		out = append(out, map[string]interface{}{
			"Name": m.Node, "Addr": m.Address, "Port": 8301, "Status": status,
			"Tags": map[string]string{"role": role, "dc": m.Datacenter},
		})
	}
	writeJSON(w, 0, out)
}

func (a *api) raftConfiguration(w http.ResponseWriter) {
	leader := a.cluster.leaderView()
	byAddress := map[string]string{}
	for _, m := range a.cluster.liveMembers() {
		byAddress[m.Address] = m.Node
	}
	a.cluster.mu.Lock()
	peers := append([]string(nil), a.cluster.peers...)
	index := a.cluster.state.Index
	a.cluster.mu.Unlock()
	var servers []map[string]interface{}
	for _, peer := range peers {
		servers = append(servers, map[string]interface{}{
			"ID": peer, "Node": byAddress[peer], "Address": a.cluster.rpcAddress(peer),
			"Leader": peer == leader, "Voter": true, "ProtocolVersion": "3",
		})
	}
	writeJSON(w, index, map[string]interface{}{"Servers": servers, "Index": index})
}

// registered is the catalog as the leader keeps it: every live or failed member's node (the leader registers Serf's
// members itself, agent/consul/leader.go reconcileMember), and the services its agent's token may register
// (service:write; agent/consul/catalog_endpoint.go vetRegisterWithACL). The twin decides at each read; Consul's agent
// tries a blocked registration again every 15 s.
func (a *api) registered() []member {
	members := a.cluster.liveMembers()
	c := a.cluster
	c.mu.Lock()
	for i := range members {
		members[i].Services = c.state.withEdits(members[i])
	}
	var external []member
	for _, node := range c.state.External {
		external = append(external, node)
	}
	c.mu.Unlock()
	for i := range members {
		m := &members[i]
		z, _, _ := a.authorizerFor(m.ServiceToken)
		var services []serviceState
		allowed := map[string]bool{}
		for _, s := range m.Services {
			if z != nil && z.allows("service", s.Service, "write") {
				services = append(services, s)
				allowed[s.ID] = true
			}
		}
		var checks []checkState
		for _, check := range m.Checks {
			if allowed[check.ServiceID] {
				checks = append(checks, check)
			}
		}
		m.Services, m.Checks = services, checks
	}
	members = append(members, external...)
	sort.Slice(members, func(i, j int) bool { return members[i].Node < members[j].Node })
	return members
}

// catalogIndex stands for Consul's raft index of the catalog: it grows whenever what the catalog shows changes.
func (a *api) catalogIndex(members []member) uint64 {
	raw, _ := json.Marshal(a.healthEntries(members, &authorizer{management: true}, "", false))
	a.catalog.Lock()
	defer a.catalog.Unlock()
	if string(raw) != a.catalogSeen {
		a.catalogSeen = string(raw)
		a.catalogCounter++
	}
	return a.catalogCounter
}

func (a *api) catalogNodes(w http.ResponseWriter, z *authorizer) {
	members := a.registered()
	out := []map[string]interface{}{}
	for _, m := range members {
		if !z.allows("node", m.Node, "read") {
			continue
		}
		out = append(out, map[string]interface{}{
			"Node": m.Node, "Address": m.Address, "Datacenter": m.Datacenter,
			"TaggedAddresses": map[string]string{"lan": m.Address, "wan": m.Address}, "Meta": map[string]string{},
		})
	}
	writeJSON(w, a.catalogIndex(members), out)
}

func (a *api) catalogServices(w http.ResponseWriter, z *authorizer) {
	members := a.registered()
	services := map[string][]string{}
	add := func(name string, tags []string) {
		if !z.allows("service", name, "read") {
			return
		}
		if _, ok := services[name]; !ok {
			services[name] = []string{}
		}
		services[name] = append(services[name], tags...)
	}
	for _, m := range members {
		if m.Server {
			add("consul", nil)
		}
		for _, s := range m.Services {
			add(s.Service, s.Tags)
		}
	}
	for name, tags := range services {
		sort.Strings(tags)
		unique := []string{}
		for i, tag := range tags {
			if i == 0 || tag != tags[i-1] {
				unique = append(unique, tag)
			}
		}
		services[name] = unique
	}
	writeJSON(w, a.catalogIndex(members), services)
}

// healthEntries are /v1/health/service's entries the token may read (node:read and service:read): a failed member's
// checks are as it last reported them, and its serfHealth critical.
func (a *api) healthEntries(members []member, z *authorizer, service string, passingOnly bool) []map[string]interface{} {
	out := []map[string]interface{}{}
	for _, m := range members {
		if !z.allows("node", m.Node, "read") {
			continue
		}
		serf := checkState{CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", Output: "Agent alive and reachable"}
		if a.cluster.failed(m) {
			serf.Status, serf.Output = "critical", "Agent not live or unreachable"
		}
		services := m.Services
		if m.Server {
			services = append([]serviceState{{ID: "consul", Service: "consul", Port: 8300}}, services...)
		}
		for _, s := range services {
			if (service != "" && s.Service != service) || !z.allows("service", s.Service, "read") {
				continue
			}
			checks := []map[string]interface{}{}
			passing := serf.Status == "passing" || m.External
			nodeChecks := []checkState{serf}
			if m.External {
				// A node no agent runs has no Serf, and no serfHealth check.
				nodeChecks = nil
			}
			for _, check := range append(nodeChecks, m.Checks...) {
				if check.ServiceID != "" && check.ServiceID != s.ID {
					continue
				}
				if check.Status != "passing" {
					passing = false
				}
				serviceName := ""
				if check.ServiceID != "" {
					serviceName = s.Service
				}
				checks = append(checks, map[string]interface{}{
					"Node": m.Node, "CheckID": check.CheckID, "Name": check.Name, "Status": check.Status,
					"Output": check.Output, "ServiceID": check.ServiceID, "ServiceName": serviceName,
				})
			}
			if passingOnly && !passing {
				continue
			}
			address := s.Address
			out = append(out, map[string]interface{}{
				"Node":    map[string]interface{}{"Node": m.Node, "Address": m.Address, "Datacenter": m.Datacenter},
				"Service": map[string]interface{}{"ID": s.ID, "Service": s.Service, "Tags": nonNil(s.Tags), "Port": s.Port, "Address": address},
				"Checks":  checks,
			})
		}
	}
	return out
}

func nonNil(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// health answers /v1/health/service/<name> (and, flattened, /v1/catalog/service/<name>), blocking on ?index.
func (a *api) health(w http.ResponseWriter, r *http.Request, z *authorizer, name string, catalog bool) {
	query := r.URL.Query()
	_, passing := query["passing"]
	members := a.registered()
	index := a.catalogIndex(members)
	if wanted, err := strconv.ParseUint(query.Get("index"), 10, 64); err == nil && wanted == index {
		deadline := time.Now().Add(waitOf(query))
		for time.Now().Before(deadline) && index == wanted {
			time.Sleep(100 * time.Millisecond)
			members = a.registered()
			index = a.catalogIndex(members)
		}
	}
	entries := a.healthEntries(members, z, name, passing && !catalog)
	if tag := query.Get("tag"); tag != "" {
		tagged := []map[string]interface{}{}
		for _, entry := range entries {
			for _, candidate := range entry["Service"].(map[string]interface{})["Tags"].([]string) {
				if candidate == tag {
					tagged = append(tagged, entry)
					break
				}
			}
		}
		entries = tagged
	}
	if !catalog {
		writeJSON(w, index, entries)
		return
	}
	flat := []map[string]interface{}{}
	for _, entry := range entries {
		node, service := entry["Node"].(map[string]interface{}), entry["Service"].(map[string]interface{})
		flat = append(flat, map[string]interface{}{
			"Node": node["Node"], "Address": node["Address"], "Datacenter": node["Datacenter"],
			"ServiceID": service["ID"], "ServiceName": service["Service"], "ServiceTags": service["Tags"],
			"ServicePort": service["Port"], "ServiceAddress": service["Address"],
		})
	}
	writeJSON(w, index, flat)
}

// waitOf is a blocking query's wait: ?wait, 5 minutes by default, at most 10 (agent/structs QueryOptions).
func waitOf(query url.Values) time.Duration {
	wait, err := time.ParseDuration(query.Get("wait"))
	if err != nil || wait <= 0 {
		wait = 5 * time.Minute
	}
	if wait > 10*time.Minute {
		wait = 10 * time.Minute
	}
	return wait
}

func (a *api) kv(w http.ResponseWriter, r *http.Request, z *authorizer, key string) {
	c := a.cluster
	query := r.URL.Query()
	_, recurse := query["recurse"]
	_, keysOnly := query["keys"]
	switch r.Method {
	case "GET":
		if !recurse && !keysOnly && !a.require(w, z, "key", key, "read") {
			return
		}
		if wanted, err := strconv.ParseUint(query.Get("index"), 10, 64); err == nil {
			deadline := time.Now().Add(waitOf(query))
			for time.Now().Before(deadline) {
				c.mu.Lock()
				moved := c.state.Index > wanted
				c.mu.Unlock()
				if moved {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		c.mu.Lock()
		index := c.state.Index
		var found []kvEntry
		for k, entry := range c.state.KV {
			need := "read"
			if keysOnly {
				need = "list"
			}
			if (k == key || ((recurse || keysOnly) && strings.HasPrefix(k, key))) && z.allows("key", k, need) {
				found = append(found, entry)
			}
		}
		c.mu.Unlock()
		sort.Slice(found, func(i, j int) bool { return found[i].Key < found[j].Key })
		if len(found) == 0 {
			w.Header().Set("X-Consul-Index", strconv.FormatUint(index, 10))
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if _, raw := query["raw"]; raw && !recurse && !keysOnly {
			w.Header().Set("X-Consul-Index", strconv.FormatUint(index, 10))
			w.Write(found[0].Value)
			return
		}
		if keysOnly {
			keys := []string{}
			for _, entry := range found {
				keys = append(keys, entry.Key)
			}
			writeJSON(w, index, keys)
			return
		}
		writeJSON(w, index, found)
	case "PUT":
		if !a.require(w, z, "key", key, "write") {
			return
		}
		value, _ := io.ReadAll(r.Body)
		flags, _ := strconv.ParseUint(query.Get("flags"), 10, 64)
		c.mu.Lock()
		c.state.Index++
		entry, existed := c.state.KV[key]
		if !existed {
			entry = kvEntry{Key: key, CreateIndex: c.state.Index}
		}
		entry.Value, entry.Flags, entry.ModifyIndex = value, flags, c.state.Index
		c.state.KV[key] = entry
		c.mu.Unlock()
		writeJSON(w, 0, true)
	case "DELETE":
		// A recursive delete needs write on every key under the prefix (KeyWritePrefix).
		if !a.require(w, z, "key", key, "write") {
			return
		}
		c.mu.Lock()
		if recurse {
			for k := range c.state.KV {
				if strings.HasPrefix(k, key) && !z.allows("key", k, "write") {
					c.mu.Unlock()
					a.require(w, z, "key", k, "write")
					return
				}
			}
		}
		c.state.Index++
		for k := range c.state.KV {
			if k == key || (recurse && strings.HasPrefix(k, key)) {
				delete(c.state.KV, k)
			}
		}
		c.mu.Unlock()
		writeJSON(w, 0, true)
	default:
		http.Error(w, fmt.Sprintf("the consul twin does not model %s on the KV store", r.Method), http.StatusNotImplemented)
	}
}

// acl answers the ACL endpoints the lab's bootstrap calls (agent/acl_endpoint.go): acl:read to read, acl:write to
// write; a missing object is 404.
func (a *api) acl(w http.ResponseWriter, r *http.Request, z *authorizer, path string) {
	c := a.cluster
	if !c.aclEnabled {
		http.Error(w, "ACL support disabled", http.StatusUnauthorized)
		return
	}
	need := "read"
	if r.Method != "GET" {
		need = "write"
	}
	if path == "token/self" && r.Method == "GET" {
		// Reading one's own token needs no permission.
		c.mu.Lock()
		defer c.mu.Unlock()
		writeJSON(w, c.state.Index, c.state.Tokens[z.accessor])
		return
	}
	if !a.require(w, z, "acl", "", need) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.state
	notFound := func(what string) { http.Error(w, "Requested "+what+" does not exist", http.StatusNotFound) }
	switch {
	case path == "tokens" && r.Method == "GET":
		list := []aclToken{}
		for _, token := range s.Tokens {
			token.SecretID = ""
			list = append(list, token)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].AccessorID < list[j].AccessorID })
		writeJSON(w, s.Index, list)
	case (path == "token" && r.Method == "PUT") || (strings.HasPrefix(path, "token/") && r.Method == "PUT"):
		var body aclToken
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "Token decoding failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		create := path == "token"
		if !create {
			accessor := strings.TrimPrefix(path, "token/")
			if body.AccessorID == "" {
				body.AccessorID = accessor
			}
			if body.AccessorID != accessor {
				http.Error(w, "Token Accessor ID in URL and payload do not match", http.StatusBadRequest)
				return
			}
			existing, ok := s.Tokens[accessor]
			if !ok {
				http.Error(w, "Cannot find token to update", http.StatusBadRequest)
				return
			}
			if body.SecretID == "" {
				body.SecretID = existing.SecretID
			}
			if body.SecretID != existing.SecretID {
				http.Error(w, "Changing a token's SecretID is not permitted", http.StatusBadRequest)
				return
			}
			body.CreateIndex = existing.CreateIndex
		} else {
			if body.AccessorID == "" {
				body.AccessorID = uuid()
			}
			if body.SecretID == "" {
				body.SecretID = uuid()
			}
			for _, token := range s.Tokens {
				if token.AccessorID == body.AccessorID {
					http.Error(w, "Invalid Token: AccessorID is already in use", http.StatusInternalServerError)
					return
				}
				if token.SecretID == body.SecretID {
					http.Error(w, "Invalid Token: SecretID is already in use", http.StatusInternalServerError)
					return
				}
			}
		}
		links, err := s.resolveLinks(body.Policies)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Index++
		body.Policies, body.ModifyIndex = links, s.Index
		if create {
			body.CreateIndex = s.Index
		}
		s.Tokens[body.AccessorID] = body
		writeJSON(w, 0, body)
	case strings.HasPrefix(path, "token/"):
		accessor := strings.TrimPrefix(path, "token/")
		token, ok := s.Tokens[accessor]
		switch {
		case r.Method == "GET" && ok:
			writeJSON(w, s.Index, token)
		case r.Method == "GET":
			notFound("token")
		case r.Method == "DELETE" && !ok:
			http.Error(w, "Cannot find token to delete", http.StatusNotFound)
		case r.Method == "DELETE" && accessor == anonymousAccessor:
			http.Error(w, "Delete operation not permitted on the anonymous token", http.StatusInternalServerError)
		case r.Method == "DELETE":
			s.Index++
			delete(s.Tokens, accessor)
			writeJSON(w, 0, true)
		default:
			http.Error(w, "the consul twin does not model "+r.Method+" /v1/acl/"+path, http.StatusNotImplemented)
		}
	case strings.HasPrefix(path, "policy/name/") && r.Method == "GET":
		name := strings.TrimPrefix(path, "policy/name/")
		for _, policy := range s.Policies {
			if policy.Name == name {
				writeJSON(w, s.Index, policy)
				return
			}
		}
		notFound("policy")
	case (path == "policy" || strings.HasPrefix(path, "policy/")) && r.Method == "PUT":
		var body aclPolicy
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "Policy decoding failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := parseRules(body.Rules); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if path == "policy" {
			body.ID = uuid()
		} else {
			body.ID = strings.TrimPrefix(path, "policy/")
			if _, ok := s.Policies[body.ID]; !ok {
				http.Error(w, "Cannot find policy "+body.ID, http.StatusBadRequest)
				return
			}
		}
		for _, policy := range s.Policies {
			if policy.Name == body.Name && policy.ID != body.ID {
				http.Error(w, "Invalid Policy: A Policy with Name \""+body.Name+"\" already exists", http.StatusBadRequest)
				return
			}
		}
		s.Index++
		body.CreateIndex, body.ModifyIndex = s.Index, s.Index
		if existing, ok := s.Policies[body.ID]; ok {
			body.CreateIndex = existing.CreateIndex
		}
		s.Policies[body.ID] = body
		// A token's links carry the policy's name too.
		for accessor, token := range s.Tokens {
			for i, link := range token.Policies {
				if link.ID == body.ID {
					token.Policies[i].Name = body.Name
				}
			}
			s.Tokens[accessor] = token
		}
		writeJSON(w, 0, body)
	case strings.HasPrefix(path, "policy/") && r.Method == "GET":
		if policy, ok := s.Policies[strings.TrimPrefix(path, "policy/")]; ok {
			writeJSON(w, s.Index, policy)
			return
		}
		notFound("policy")
	default:
		http.Error(w, "the consul twin does not model "+r.Method+" /v1/acl/"+path, http.StatusNotImplemented)
	}
}

// autopilotHealth answers /v1/operator/autopilot/health from the leader's autopilot state (cluster.go
// updateAutopilot), as Consul 1.20 does (agent/consul/operator_autopilot_endpoint.go ServerHealth; HTTP in
// agent/operator_endpoint.go OperatorServerHealth): HTTP 429 with the same body while anything is unhealthy, each
// server's StableSince rounded to the second in UTC, and an empty reply before the first update.
func (a *api) autopilotHealth(w http.ResponseWriter) {
	c := a.cluster
	c.mu.Lock()
	servers := append([]map[string]interface{}(nil), c.autopilotServers...)
	c.mu.Unlock()
	healthyVoters, allHealthy := 0, len(servers) > 0
	for _, server := range servers {
		if server["Healthy"] == true {
			healthyVoters++
		} else {
			allHealthy = false
		}
	}
	tolerance := healthyVoters - (len(servers)/2 + 1)
	if tolerance < 0 {
		tolerance = 0
	}
	w.Header().Set("Content-Type", "application/json")
	if !allHealthy {
		w.WriteHeader(http.StatusTooManyRequests)
	}
	json.NewEncoder(w).Encode(map[string]interface{}{"Healthy": allHealthy, "FailureTolerance": tolerance, "Servers": servers})
}
