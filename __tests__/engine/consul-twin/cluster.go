// The twin's cluster: membership and a leader, as far as the lab observes them. It is not Raft and not Serf; it keeps
// the rules and times the lab depends on, from their sources at Consul v1.20.2 and hashicorp/raft v1.7:
//
//   - Membership: every agent tells each address of retry_join, once a second, who it is and how its checks are
//     (Serf's gossip, reduced to a push to the servers). A member not heard from for memberFailAfter is failed, and
//     its node's serfHealth check is critical, as Consul marks a failed member's node (agent/consul/leader.go,
//     handleFailedMember).
//   - Bootstrap: a server bootstraps the cluster once it knows bootstrap_expect servers, those servers its peers
//     (agent/consul/server_serf.go, maybeBootstrap).
//   - Times: raft_multiplier (performance.raft_multiplier, default 5: agent/consul/config.go DefaultRaftMultiplier)
//     times raft's defaults (raft config.go DefaultConfig: HeartbeatTimeout and ElectionTimeout 1 s,
//     LeaderLeaseTimeout 500 ms), as agent/config/builder.go scales them.
//   - Election: a follower that has not heard from a leader for a random time between HeartbeatTimeout and twice it
//     (raft util.go randomTimeout) stands in a new term; a server grants one vote per term, never while it has heard
//     from a leader within HeartbeatTimeout (raft.go requestVote, "rejecting vote request since we have a leader"); a
//     candidate with a quorum of its peers' votes leads. A leader sends heartbeats every HeartbeatTimeout/10 and steps
//     down when it has not reached a quorum within LeaderLeaseTimeout (raft.go checkLeaderLease).
//   - State: the KV store, ACLs and catalog writes live with the leader and are copied to the followers with each
//     heartbeat, so a new leader has them; a write reaches the leader or fails with Consul's "No cluster leader".
//     Each server keeps its term, its peers and that state in its data dir (twin-raft.json) as Raft keeps its log and
//     configuration there, so a server that restarts, or a whole cluster after a host's reboot, has them again
//     without a new bootstrap.
//
// The agents speak to each other over the server port (8300) with a protocol of the twin's own, plain HTTP: Consul's
// RPC, its TLS and gossip encryption are not modelled.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

const memberFailAfter = 5 * time.Second

type checkState struct {
	CheckID   string
	Name      string
	Status    string
	Output    string
	ServiceID string
}

type serviceState struct {
	ID      string
	Service string
	Tags    []string
	Port    int
	Address string
}

// member is what an agent pushes about itself.
type member struct {
	Node       string
	Address    string
	Server     bool
	Datacenter string
	Services   []serviceState
	Checks     []checkState
	// The token the agent registers its services with (acl.tokens.config_file_service_registration, else default).
	ServiceToken string
	// A node registered through the catalog API, which no agent runs.
	External bool
	seen     time.Time
}

type kvEntry struct {
	Key         string
	Value       []byte
	Flags       uint64
	CreateIndex uint64
	ModifyIndex uint64
	LockIndex   uint64
}

// replicated is what the leader copies to its followers.
type replicated struct {
	Index    uint64
	KV       map[string]kvEntry
	Policies map[string]aclPolicy // by ID
	Tokens   map[string]aclToken  // by accessor ID
	// The catalog's writes (catalog.go): nodes no agent runs, writes to agents' services, prepared queries.
	External  map[string]member
	Edits     map[string]catalogEdit
	Queries   map[string]preparedQuery
	Autopilot map[string]interface{}
}

type cluster struct {
	mu       sync.Mutex
	changed  *sync.Cond
	self     member
	rpcPort  int
	join     []string
	expect   int
	timing   raftTiming
	members  map[string]*member // by node name; servers only
	peers    []string           // server addresses once bootstrapped
	term     uint64
	votedFor string
	leader   string // address of the leader, "" when none
	leading  bool
	contact  time.Time // last heartbeat from a leader (or a vote granted)
	timeout  time.Duration
	acks     map[string]time.Time
	state    replicated
	client   *http.Client
	// Where the server keeps its Raft state (the -data-dir); "" keeps nothing.
	dataDir string
	// The leader's autopilot: each server's last health report, and when each one's Healthy value last changed.
	autopilotServers []map[string]interface{}
	autopilotSince   map[string]autopilotRecord
	autopilotAt      time.Time
	// ACLs: whether they are on, the initial management token's secret, and acl.default_policy "allow".
	aclEnabled   bool
	management   string
	defaultAllow bool
}

type raftTiming struct {
	heartbeat, election, lease time.Duration
}

func timingFor(multiplier int) raftTiming {
	m := time.Duration(multiplier)
	return raftTiming{heartbeat: m * time.Second, election: m * time.Second, lease: m * 500 * time.Millisecond}
}

func newCluster(self member, rpcPort int, join []string, expect int, timing raftTiming) *cluster {
	c := &cluster{
		self: self, rpcPort: rpcPort, join: join, expect: expect, timing: timing,
		members: map[string]*member{}, acks: map[string]time.Time{},
		state: replicated{Index: 1, KV: map[string]kvEntry{}, Tokens: map[string]aclToken{},
			Policies: map[string]aclPolicy{}, External: map[string]member{}, Edits: map[string]catalogEdit{},
			Queries: map[string]preparedQuery{}},
		client: &http.Client{Timeout: 500 * time.Millisecond},
	}
	c.changed = sync.NewCond(&c.mu)
	c.resetTimeout()
	return c
}

func (c *cluster) rpcAddress(address string) string {
	return net.JoinHostPort(address, strconv.Itoa(c.rpcPort))
}

func (c *cluster) resetTimeout() {
	c.contact = time.Now()
	c.timeout = c.timing.heartbeat + time.Duration(rand.Int63n(int64(c.timing.heartbeat)))
}

func (c *cluster) post(address, path string, body, reply interface{}) error {
	raw, _ := json.Marshal(body)
	response, err := c.client.Post("http://"+c.rpcAddress(address)+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != 200 {
		return fmt.Errorf("%s answered %d", path, response.StatusCode)
	}
	if reply == nil {
		return nil
	}
	return json.NewDecoder(response.Body).Decode(reply)
}

// gossip pushes this agent to every server it joins, once a second; a server also records itself.
func (c *cluster) gossip(current func() member) {
	for {
		me := current()
		if me.Server {
			c.record(me)
		}
		for _, address := range c.join {
			if address == me.Address {
				continue
			}
			go func(address string) {
				var them member
				if c.post(address, "/twin/join", me, &them) == nil && me.Server {
					c.record(them)
				}
			}(address)
		}
		time.Sleep(time.Second)
	}
}

func (c *cluster) record(m member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.seen = time.Now()
	c.members[m.Node] = &m
	if c.self.Server && c.peers == nil {
		var servers []string
		for _, known := range c.members {
			if known.Server && time.Since(known.seen) < memberFailAfter {
				servers = append(servers, known.Address)
			}
		}
		if len(servers) >= c.expect && c.expect > 0 {
			sort.Strings(servers)
			c.peers = servers
			c.resetTimeout()
			logf("agent: bootstrapping the cluster with %d servers: %v", len(servers), servers)
		}
	}
	c.changed.Broadcast()
}

func (c *cluster) quorum() int { return len(c.peers)/2 + 1 }

type persisted struct {
	Term     uint64
	VotedFor string
	Peers    []string
	State    replicated
}

const raftFile = "twin-raft.json"

// restore reads what this server kept in its data dir, if anything.
func (c *cluster) restore() {
	if c.dataDir == "" {
		return
	}
	raw, err := os.ReadFile(filepath.Join(c.dataDir, raftFile))
	if err != nil {
		return
	}
	var kept persisted
	if err := json.Unmarshal(raw, &kept); err != nil {
		fail("consul twin: %s in the data dir is damaged: %v", raftFile, err)
	}
	c.term, c.votedFor, c.peers, c.state = kept.Term, kept.VotedFor, kept.Peers, kept.State
	if c.state.KV == nil {
		c.state.KV = map[string]kvEntry{}
	}
	if c.state.Tokens == nil {
		c.state.Tokens, c.state.Policies = map[string]aclToken{}, map[string]aclPolicy{}
	}
	c.state.ensureCatalog()
	logf("raft: restored term %d, %d peers and index %d from %s", c.term, len(c.peers), c.state.Index, raftFile)
}

// persist writes the term, peers and state whenever they change, atomically.
func (c *cluster) persist() {
	if c.dataDir == "" {
		return
	}
	var last []byte
	for range time.Tick(200 * time.Millisecond) {
		c.mu.Lock()
		raw, _ := json.Marshal(persisted{Term: c.term, VotedFor: c.votedFor, Peers: c.peers, State: c.state})
		c.mu.Unlock()
		if bytes.Equal(raw, last) {
			continue
		}
		partial := filepath.Join(c.dataDir, raftFile+".partial")
		if err := os.WriteFile(partial, raw, 0o600); err != nil {
			fail("consul twin: cannot keep the Raft state in %s: %v", c.dataDir, err)
		}
		if err := os.Rename(partial, filepath.Join(c.dataDir, raftFile)); err != nil {
			fail("consul twin: cannot keep the Raft state in %s: %v", c.dataDir, err)
		}
		last = raw
	}
}

// run is a server's Raft loop: elections when no leader is heard from, heartbeats and the lease when leading.
type autopilotRecord struct {
	healthy bool
	since   time.Time
}

// autopilotInterval is how often the leader's autopilot updates its state: Consul's ServerHealthInterval
// (agent/consul/config.go, 2 s), which raft-autopilot runs its update loop at.
const autopilotInterval = 2 * time.Second

// updateAutopilot computes the leader's autopilot state, as raft-autopilot's state.go does: a server is healthy when
// Serf sees it alive and the leader heard from it within the heartbeat timeout (the twin's stand-in for
// LastContactThreshold and the index lag, which it does not model); StableSince is reset when a server is new to this
// leader's state or its Healthy value changes. Called with c.mu held, by the leader.
func (c *cluster) updateAutopilot() {
	byAddress := map[string]member{}
	for _, m := range c.members {
		byAddress[m.Address] = *m
	}
	now := time.Now()
	servers := []map[string]interface{}{}
	for _, peer := range c.peers {
		m, known := byAddress[peer]
		serfStatus := "none"
		if known {
			serfStatus = "alive"
			if c.failed(m) {
				serfStatus = "failed"
			}
		}
		contact := time.Duration(0)
		if peer != c.self.Address {
			contact = now.Sub(c.acks[peer])
		}
		healthy := serfStatus == "alive" && (peer == c.self.Address || contact < c.timing.heartbeat)
		record, seen := c.autopilotSince[peer]
		if !seen || record.healthy != healthy {
			record = autopilotRecord{healthy: healthy, since: now}
			c.autopilotSince[peer] = record
		}
		servers = append(servers, map[string]interface{}{
			"ID": peer, "Name": m.Node, "Address": c.rpcAddress(peer), "SerfStatus": serfStatus,
			"Leader": peer == c.self.Address, "LastContact": contact.Round(time.Millisecond).String(), "LastTerm": c.term,
			"Healthy": healthy, "Voter": true, "StableSince": record.since.Round(time.Second).UTC(),
		})
	}
	c.autopilotServers, c.autopilotAt = servers, now
}

func (c *cluster) run() {
	tick := time.NewTicker(c.timing.heartbeat / 10)
	leaseCheck := time.Now()
	for range tick.C {
		c.mu.Lock()
		if c.peers == nil {
			c.mu.Unlock()
			continue
		}
		if c.leading {
			c.mu.Unlock()
			c.heartbeat()
			c.mu.Lock()
			if time.Since(c.autopilotAt) >= autopilotInterval {
				c.updateAutopilot()
			}
			if time.Since(leaseCheck) >= c.timing.lease {
				leaseCheck = time.Now()
				contacted := 1
				for _, peer := range c.peers {
					if peer != c.self.Address && time.Since(c.acks[peer]) < c.timing.lease {
						contacted++
					}
				}
				if contacted < c.quorum() {
					logf("raft: failed to contact quorum of nodes, stepping down")
					c.leading, c.leader = false, ""
					c.resetTimeout()
					c.changed.Broadcast()
				}
			}
			c.mu.Unlock()
			continue
		}
		if time.Since(c.contact) < c.timeout {
			c.mu.Unlock()
			continue
		}
		c.term++
		c.votedFor = c.self.Address
		c.leader = ""
		term, peers := c.term, append([]string(nil), c.peers...)
		c.resetTimeout()
		c.mu.Unlock()
		logf("raft: entering candidate state: term %d", term)
		votes := 1
		var wait sync.WaitGroup
		var count sync.Mutex
		for _, peer := range peers {
			if peer == c.self.Address {
				continue
			}
			wait.Add(1)
			go func(peer string) {
				defer wait.Done()
				var reply struct {
					Term    uint64
					Granted bool
				}
				if c.post(peer, "/twin/vote", map[string]interface{}{"Term": term, "Candidate": c.self.Address}, &reply) == nil {
					count.Lock()
					if reply.Granted {
						votes++
					}
					count.Unlock()
					c.observeTerm(reply.Term)
				}
			}(peer)
		}
		wait.Wait()
		c.mu.Lock()
		if c.term == term && votes >= c.quorum() {
			c.leading, c.leader = true, c.self.Address
			if c.aclEnabled {
				c.state.initializeACLs(c.management)
			}
			c.acks = map[string]time.Time{}
			for _, peer := range c.peers {
				c.acks[peer] = time.Now()
			}
			// A new leader's autopilot starts with no state: the first update comes one interval later.
			c.autopilotServers, c.autopilotSince, c.autopilotAt = nil, map[string]autopilotRecord{}, time.Now()
			leaseCheck = time.Now()
			logf("raft: election won: term %d, votes %d", term, votes)
			c.changed.Broadcast()
		}
		c.mu.Unlock()
	}
}

func (c *cluster) observeTerm(term uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if term > c.term {
		c.term, c.votedFor = term, ""
		if c.leading {
			logf("raft: a newer term %d; stepping down", term)
		}
		c.leading = false
	}
}

func (c *cluster) heartbeat() {
	c.mu.Lock()
	request := map[string]interface{}{"Term": c.term, "Leader": c.self.Address, "Peers": c.peers, "State": c.state}
	raw, _ := json.Marshal(request)
	peers := append([]string(nil), c.peers...)
	c.mu.Unlock()
	for _, peer := range peers {
		if peer == c.self.Address {
			continue
		}
		go func(peer string) {
			var reply struct {
				Term    uint64
				Success bool
			}
			if c.post(peer, "/twin/append", json.RawMessage(raw), &reply) == nil {
				c.observeTerm(reply.Term)
				if reply.Success {
					c.mu.Lock()
					c.acks[peer] = time.Now()
					c.mu.Unlock()
				}
			}
		}(peer)
	}
}

// serveInternal answers other agents on the server port.
func (c *cluster) serveInternal(listener net.Listener, api *api) {
	mux := http.NewServeMux()
	// A client agent's question about a token, answered from this server's copy of the ACL state.
	mux.HandleFunc("/twin/acl", func(w http.ResponseWriter, r *http.Request) {
		var request struct{ Token, Kind, Name, Need string }
		json.NewDecoder(r.Body).Decode(&request)
		status, message := api.decide(request.Token, request.Kind, request.Name, request.Need)
		json.NewEncoder(w).Encode(map[string]interface{}{"Status": status, "Message": message})
	})
	mux.HandleFunc("/twin/join", func(w http.ResponseWriter, r *http.Request) {
		var m member
		if json.NewDecoder(r.Body).Decode(&m) != nil {
			http.Error(w, "bad member", 400)
			return
		}
		c.record(m)
		c.mu.Lock()
		self := c.members[c.self.Node]
		c.mu.Unlock()
		if self == nil {
			self = &c.self
		}
		json.NewEncoder(w).Encode(self)
	})
	mux.HandleFunc("/twin/vote", func(w http.ResponseWriter, r *http.Request) {
		var request struct {
			Term      uint64
			Candidate string
		}
		json.NewDecoder(r.Body).Decode(&request)
		c.mu.Lock()
		defer c.mu.Unlock()
		granted := false
		switch {
		case request.Term < c.term:
		case c.leader != "" && c.leader != request.Candidate && time.Since(c.contact) < c.timing.heartbeat:
			// raft.go requestVote: a server that hears from its leader does not help depose it.
		default:
			if request.Term > c.term {
				c.term, c.votedFor, c.leading = request.Term, "", false
			}
			if c.votedFor == "" || c.votedFor == request.Candidate {
				c.votedFor, granted = request.Candidate, true
				c.resetTimeout()
			}
		}
		json.NewEncoder(w).Encode(map[string]interface{}{"Term": c.term, "Granted": granted})
	})
	mux.HandleFunc("/twin/append", func(w http.ResponseWriter, r *http.Request) {
		var request struct {
			Term   uint64
			Leader string
			Peers  []string
			State  replicated
		}
		json.NewDecoder(r.Body).Decode(&request)
		c.mu.Lock()
		defer c.mu.Unlock()
		if request.Term < c.term {
			json.NewEncoder(w).Encode(map[string]interface{}{"Term": c.term, "Success": false})
			return
		}
		if c.leader != request.Leader {
			logf("raft: a leader: %s, term %d", request.Leader, request.Term)
		}
		c.term, c.leading, c.leader = request.Term, false, request.Leader
		if c.peers == nil {
			c.peers = request.Peers
		}
		if request.State.Index >= c.state.Index {
			c.state = request.State
			if c.state.KV == nil {
				c.state.KV = map[string]kvEntry{}
			}
			if c.state.Tokens == nil {
				c.state.Tokens, c.state.Policies = map[string]aclToken{}, map[string]aclPolicy{}
			}
			c.state.ensureCatalog()
		}
		c.resetTimeout()
		c.changed.Broadcast()
		json.NewEncoder(w).Encode(map[string]interface{}{"Term": c.term, "Success": true})
	})
	// A client's or a follower's API request, answered here as this server would answer its own.
	mux.Handle("/v1/", api)
	http.Serve(listener, mux)
}

// leaderView is what this server knows of the leader: its address, "" when none.
func (c *cluster) leaderView() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leading {
		return c.self.Address
	}
	if c.leader != "" && time.Since(c.contact) < c.timing.heartbeat {
		return c.leader
	}
	return ""
}

// liveMembers are the members as Serf would report them, each with its status: alive (1) or failed (4).
func (c *cluster) liveMembers() []member {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []member
	for _, m := range c.members {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

func (c *cluster) failed(m member) bool { return !m.External && time.Since(m.seen) >= memberFailAfter }
