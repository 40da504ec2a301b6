// The HTTP API the lab uses, answered as Consul 1.20 answers it (agent/http_register.go for the paths; the shapes of
// api/*.go): status, operator raft configuration, members, catalog, health and KV with blocking queries and
// X-Consul-Index. A client agent forwards what it cannot answer itself to a server, and a follower forwards to the
// leader, as Consul's RPC does for a default-consistency read and for every write (agent/consul/rpc.go, forward).
// With ACLs enabled the initial management token may do everything; any other token is refused with Consul's "ACL not
// found" (the policies of other tokens are not modelled). Every other path answers 501 naming the twin.
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
	aclEnabled bool
	management string
	local      func() member

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
	path := r.URL.Path
	switch {
	case path == "/v1/status/leader" && r.Method == "GET":
		a.viaServer(w, r, func() { a.statusLeader(w) })
	case path == "/v1/status/peers" && r.Method == "GET":
		a.viaServer(w, r, func() { a.statusPeers(w) })
	case path == "/v1/agent/self" && r.Method == "GET":
		if a.allowed(w, r) {
			me := a.local()
			writeJSON(w, 0, map[string]interface{}{
				"Config": map[string]interface{}{"NodeName": me.Node, "Server": me.Server, "Datacenter": a.datacenter},
				"Member": map[string]interface{}{"Name": me.Node, "Addr": me.Address, "Status": 1},
			})
		}
	case path == "/v1/agent/members" && r.Method == "GET":
		a.authorizedViaServer(w, r, func() { a.members(w) })
	case path == "/v1/operator/raft/configuration" && r.Method == "GET":
		a.authorizedViaLeader(w, r, func() { a.raftConfiguration(w) })
	case path == "/v1/catalog/nodes" && r.Method == "GET":
		a.authorizedViaLeader(w, r, func() { a.catalogNodes(w) })
	case path == "/v1/catalog/services" && r.Method == "GET":
		a.authorizedViaLeader(w, r, func() { a.catalogServices(w) })
	case strings.HasPrefix(path, "/v1/catalog/service/") && r.Method == "GET":
		a.authorizedViaLeader(w, r, func() { a.health(w, r, strings.TrimPrefix(path, "/v1/catalog/service/"), true) })
	case strings.HasPrefix(path, "/v1/health/service/") && r.Method == "GET":
		a.authorizedViaLeader(w, r, func() { a.health(w, r, strings.TrimPrefix(path, "/v1/health/service/"), false) })
	case strings.HasPrefix(path, "/v1/kv/"):
		a.authorizedViaLeader(w, r, func() { a.kv(w, r, strings.TrimPrefix(path, "/v1/kv/")) })
	default:
		http.Error(w, fmt.Sprintf("the consul twin does not model %s %s", r.Method, path), http.StatusNotImplemented)
	}
}

// allowed applies the ACL rule the twin models: with ACLs on, only the initial management token. A server decides; a
// client asks a server, as a client agent resolves tokens through the servers (agent/consul/acl_client.go).
func (a *api) allowed(w http.ResponseWriter, r *http.Request) bool {
	if !a.aclEnabled {
		return true
	}
	status, message := a.decide(tokenOf(r))
	if status == http.StatusOK {
		return true
	}
	http.Error(w, message, status)
	return false
}

func (a *api) decide(token string) (int, string) {
	if !a.server {
		for _, address := range a.cluster.join {
			var verdict struct {
				Status  int
				Message string
			}
			if a.cluster.post(address, "/twin/acl", map[string]string{"Token": token}, &verdict) == nil {
				return verdict.Status, verdict.Message
			}
		}
		return http.StatusInternalServerError, "No known Consul servers"
	}
	switch {
	case token != "" && token == a.management:
		return http.StatusOK, ""
	case token == "":
		// Anonymous under default_policy "deny"; the twin does not model what Consul filters instead of refusing.
		return http.StatusForbidden, "Permission denied: anonymous token lacks permission (the consul twin models only the initial management token)"
	default:
		return http.StatusForbidden, "ACL not found"
	}
}

// proxy sends the request on to an agent's server port and copies the answer back.
func (a *api) proxy(w http.ResponseWriter, r *http.Request, address string) bool {
	target := "http://" + a.cluster.rpcAddress(address) + r.URL.RequestURI()
	body, _ := io.ReadAll(r.Body)
	request, _ := http.NewRequest(r.Method, target, strings.NewReader(string(body)))
	request.Header = r.Header.Clone()
	request.Header.Set(forwardedHeader, "1")
	// A blocking query may wait up to its own wait time (Consul's maximum is 10 minutes).
	response, err := (&http.Client{Timeout: 11 * time.Minute}).Do(request)
	if err != nil {
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
		if a.proxy(w, r, address) {
			return
		}
	}
	// agent/consul/client.go: a client with no server to send to.
	http.Error(w, "No known Consul servers", http.StatusInternalServerError)
}

func (a *api) authorizedViaServer(w http.ResponseWriter, r *http.Request, answer func()) {
	if a.allowed(w, r) {
		a.viaServer(w, r, answer)
	}
}

// authorizedViaLeader answers on the leader; a follower forwards, and without a leader Consul says so.
func (a *api) authorizedViaLeader(w http.ResponseWriter, r *http.Request, answer func()) {
	if !a.allowed(w, r) {
		return
	}
	a.viaServer(w, r, func() {
		leader := a.cluster.leaderView()
		switch {
		case leader == a.cluster.self.Address:
			answer()
		case leader == "":
			http.Error(w, "No cluster leader", http.StatusInternalServerError)
		case r.Header.Get(forwardedHeader+"-Leader") != "":
			http.Error(w, "No cluster leader", http.StatusInternalServerError)
		default:
			r.Header.Set(forwardedHeader+"-Leader", "1")
			if !a.proxy(w, r, leader) {
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

func (a *api) members(w http.ResponseWriter) {
	var out []map[string]interface{}
	for _, m := range a.cluster.liveMembers() {
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

// catalogIndex stands for Consul's raft index of the catalog: it grows whenever what the catalog shows changes.
func (a *api) catalogIndex(members []member) uint64 {
	raw, _ := json.Marshal(a.healthEntries(members, "", false))
	a.catalog.Lock()
	defer a.catalog.Unlock()
	if string(raw) != a.catalogSeen {
		a.catalogSeen = string(raw)
		a.catalogCounter++
	}
	return a.catalogCounter
}

func (a *api) catalogNodes(w http.ResponseWriter) {
	members := a.cluster.liveMembers()
	var out []map[string]interface{}
	for _, m := range members {
		out = append(out, map[string]interface{}{
			"Node": m.Node, "Address": m.Address, "Datacenter": m.Datacenter,
			"TaggedAddresses": map[string]string{"lan": m.Address, "wan": m.Address}, "Meta": map[string]string{},
		})
	}
	writeJSON(w, a.catalogIndex(members), out)
}

func (a *api) catalogServices(w http.ResponseWriter) {
	members := a.cluster.liveMembers()
	services := map[string][]string{}
	for _, m := range members {
		if m.Server {
			services["consul"] = []string{}
		}
		for _, s := range m.Services {
			if _, ok := services[s.Service]; !ok {
				services[s.Service] = []string{}
			}
			services[s.Service] = append(services[s.Service], s.Tags...)
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

// healthEntries are /v1/health/service's entries: a failed member's checks are as it last reported them, and its
// serfHealth critical.
func (a *api) healthEntries(members []member, service string, passingOnly bool) []map[string]interface{} {
	out := []map[string]interface{}{}
	for _, m := range members {
		serf := checkState{CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", Output: "Agent alive and reachable"}
		if a.cluster.failed(m) {
			serf.Status, serf.Output = "critical", "Agent not live or unreachable"
		}
		services := m.Services
		if m.Server {
			services = append([]serviceState{{ID: "consul", Service: "consul", Port: 8300}}, services...)
		}
		for _, s := range services {
			if service != "" && s.Service != service {
				continue
			}
			checks := []map[string]interface{}{}
			passing := serf.Status == "passing"
			for _, check := range append([]checkState{serf}, m.Checks...) {
				if check.ServiceID != "" && check.ServiceID != s.ID {
					continue
				}
				if check.Status != "passing" {
					passing = false
				}
				checks = append(checks, map[string]interface{}{
					"Node": m.Node, "CheckID": check.CheckID, "Name": check.Name, "Status": check.Status,
					"Output": check.Output, "ServiceID": check.ServiceID, "ServiceName": map[bool]string{true: s.Service}[check.ServiceID != ""],
				})
			}
			if passingOnly && !passing {
				continue
			}
			out = append(out, map[string]interface{}{
				"Node":    map[string]interface{}{"Node": m.Node, "Address": m.Address, "Datacenter": m.Datacenter},
				"Service": map[string]interface{}{"ID": s.ID, "Service": s.Service, "Tags": nonNil(s.Tags), "Port": s.Port, "Address": s.Address},
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
func (a *api) health(w http.ResponseWriter, r *http.Request, name string, catalog bool) {
	query := r.URL.Query()
	_, passing := query["passing"]
	members := a.cluster.liveMembers()
	index := a.catalogIndex(members)
	if wanted, err := strconv.ParseUint(query.Get("index"), 10, 64); err == nil && wanted == index {
		deadline := time.Now().Add(waitOf(query))
		for time.Now().Before(deadline) && index == wanted {
			time.Sleep(100 * time.Millisecond)
			members = a.cluster.liveMembers()
			index = a.catalogIndex(members)
		}
	}
	entries := a.healthEntries(members, name, passing && !catalog)
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

func (a *api) kv(w http.ResponseWriter, r *http.Request, key string) {
	c := a.cluster
	query := r.URL.Query()
	_, recurse := query["recurse"]
	switch r.Method {
	case "GET":
		_, keysOnly := query["keys"]
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
			if k == key || ((recurse || keysOnly) && strings.HasPrefix(k, key)) {
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
		c.mu.Lock()
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
