// A stand-in for `consul agent`, for the twin lab's engine tests: it loads the agent's config dir as Consul 1.20 does
// and binds exactly the sockets Consul would, so the synthesized container, its uploaded config and its published ports
// are tried as they are. It models only what it names below and refuses to start on anything it does not model.
//
//   - Config: every *.json file of -config-dir, merged in lexical order (agent/config/builder.go loads a dir's files
//     sorted; objects merge, a later scalar wins). Each key must be one Consul 1.20 knows (the table in
//     consul-1.20-config-keys.json, read from agent/config/config.go at v1.20.2; matched case-insensitively as
//     mapstructure does), or it stops as Consul does: "failed to parse <dir>: invalid config key <path>"
//     (builder.go:359, :363).
//   - Listeners: client_addr (space-separated) for HTTP, HTTPS, DNS and gRPC TLS, unless addresses.<listener> says
//     otherwise; bind_addr for serf and server RPC. Ports from ports.*, with Consul's defaults (agent/config/default.go:
//     http 8500, dns 8600, https and grpc -1, serf_lan 8301, serf_wan 8302, server 8300; builder.go: grpc_tls 8503
//     on a server when unset); a port <= 0 is off. A socket that cannot be bound stops the agent, as it stops Consul.
//   - HTTPS: the certificate and key of tls.https, else tls.defaults; a client certificate is required when
//     verify_incoming says so (tls.https over tls.defaults).
//   - Cluster (cluster.go): membership, bootstrap, elections and the leader's lease, at Consul's times.
//   - API (api.go, catalog.go): status, agent self and members, raft configuration, autopilot configuration and
//     health, catalog reads and writes, health, KV, prepared queries, the ACL endpoints, a page for /ui/; everything
//     else answers 501, naming the twin, so a test that needs more fails loudly.
//   - Checks (checks.go): each service's HTTP checks, run for real.
//   - Watches (watch.go): `service` watches with an args handler, run for real.
//   - ACLs (acl.go): policies, tokens and their enforcement for what the lab does.
//   - DNS (dns.go): node, service and prepared-query lookups, A and SRV.
//   - Serf sockets are bound and held; what arrives on them is read and dropped. The server port carries the twin's
//     own protocol between agents.
//
// Usage: consul agent [-data-dir=DIR] -config-dir=DIR [-keys=TABLE.json]  (the table: /consul-twin/config-keys.json)
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
	os.Exit(1)
}

// logf writes a log line as Consul's agent does: a timestamp, the level, the subsystem in the message.
func logf(format string, args ...interface{}) {
	fmt.Printf("%s [INFO]  "+format+"\n", append([]interface{}{time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}, args...)...)
}

func intAt(config map[string]interface{}, path string, fallback int) int {
	if value, ok := lookup(config, path); ok {
		if number, ok := value.(float64); ok {
			return int(number)
		}
	}
	return fallback
}

func stringsAt(config map[string]interface{}, path string) []string {
	value, _ := lookup(config, path)
	list, _ := value.([]interface{})
	var out []string
	for _, item := range list {
		if text, ok := item.(string); ok {
			out = append(out, text)
		}
	}
	return out
}

// merge merges b into a as Consul's config sources merge: objects key by key, anything else replaced.
func merge(a, b map[string]interface{}) {
	for key, value := range b {
		if sub, ok := value.(map[string]interface{}); ok {
			if existing, ok := a[key].(map[string]interface{}); ok {
				merge(existing, sub)
				continue
			}
		}
		a[key] = value
	}
}

type keyTable struct {
	types      map[string]string
	structures map[string]bool
}

func loadKeys(path string) keyTable {
	raw, err := os.ReadFile(path)
	if err != nil {
		fail("consul twin: cannot read its key table %s: %v", path, err)
	}
	var file struct {
		Keys map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		fail("consul twin: key table %s: %v", path, err)
	}
	table := keyTable{types: map[string]string{}, structures: map[string]bool{}}
	for key, typ := range file.Keys {
		lower := strings.ToLower(key)
		table.types[lower] = strings.TrimSuffix(typ, " (deprecated)")
		for i := 0; i < len(lower); i++ {
			if lower[i] == '.' || strings.HasPrefix(lower[i:], "[]") {
				table.structures[lower[:i]] = true
			}
		}
	}
	return table
}

// check returns Consul's complaints about one merged config.
func (t keyTable) check(value interface{}, path, shown string, problems *[]string) {
	typ, known := t.types[strings.ToLower(path)]
	if path != "" && !known && !t.structures[strings.ToLower(path)] {
		*problems = append(*problems, "invalid config key "+shown)
		return
	}
	if strings.HasPrefix(typ, "map[") || strings.HasPrefix(typ, "[]map[") {
		return
	}
	wrong := func(expected string) {
		*problems = append(*problems, fmt.Sprintf("'%s' expected type '%s', got unconvertible type '%T'", shown, expected, value))
	}
	switch typ {
	case "string":
		if _, ok := value.(string); !ok {
			wrong("string")
		}
		return
	case "bool":
		if _, ok := value.(bool); !ok {
			wrong("bool")
		}
		return
	case "[]string":
		list, ok := value.([]interface{})
		for _, element := range list {
			if _, isString := element.(string); !isString {
				ok = false
			}
		}
		if !ok {
			wrong("[]string")
		}
		return
	case "int", "uint", "uint32", "uint64", "float64":
		if _, ok := value.(float64); !ok {
			wrong(typ)
		}
		return
	}
	switch v := value.(type) {
	case []interface{}:
		for i, element := range v {
			t.check(element, path+"[]", fmt.Sprintf("%s[%d]", shown, i), problems)
		}
	case map[string]interface{}:
		keys := make([]string, 0, len(v))
		for key := range v {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			childPath, childShown := key, key
			if path != "" {
				childPath, childShown = path+"."+key, shown+"."+key
			}
			t.check(v[key], childPath, childShown, problems)
		}
	}
}

// lookup finds a config value by a dotted path, case-insensitively.
func lookup(config map[string]interface{}, path string) (interface{}, bool) {
	var current interface{} = config
	for _, part := range strings.Split(path, ".") {
		object, ok := current.(map[string]interface{})
		if !ok {
			return nil, false
		}
		found := false
		for key, value := range object {
			if strings.EqualFold(key, part) {
				current, found = value, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return current, true
}

func stringAt(config map[string]interface{}, path, fallback string) string {
	if value, ok := lookup(config, path); ok {
		if text, ok := value.(string); ok {
			return text
		}
	}
	return fallback
}

func boolAt(config map[string]interface{}, path string) (bool, bool) {
	value, ok := lookup(config, path)
	if !ok {
		return false, false
	}
	b, ok := value.(bool)
	return b, ok
}

// port is ports.<name> or the default; Consul's portVal turns <= 0 into "off".
func port(config map[string]interface{}, name string, fallback int) int {
	if value, ok := lookup(config, "ports."+name); ok {
		if number, ok := value.(float64); ok {
			if number <= 0 || number > 65535 {
				return -1
			}
			return int(number)
		}
	}
	return fallback
}

func addressesOf(config map[string]interface{}, listener string) []string {
	if value, ok := lookup(config, "addresses."+listener); ok {
		if text, ok := value.(string); ok {
			return strings.Fields(text)
		}
	}
	return strings.Fields(stringAt(config, "client_addr", "127.0.0.1"))
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		fail("consul twin: only `consul agent -config-dir=DIR` is modelled; got %q", os.Args[1:])
	}
	configDir, dataDir, keysFile := "", "", "/consul-twin/config-keys.json"
	for _, arg := range os.Args[2:] {
		switch {
		case strings.HasPrefix(arg, "-config-dir="):
			configDir = strings.TrimPrefix(arg, "-config-dir=")
		case strings.HasPrefix(arg, "-data-dir="):
			dataDir = strings.TrimPrefix(arg, "-data-dir=")
		case strings.HasPrefix(arg, "-keys="):
			keysFile = strings.TrimPrefix(arg, "-keys=")
		default:
			fail("consul twin: the flag %q is not modelled", arg)
		}
	}
	if configDir == "" {
		fail("consul twin: no -config-dir")
	}
	files, _ := filepath.Glob(filepath.Join(configDir, "*.json"))
	sort.Strings(files)
	config := map[string]interface{}{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			fail("Error loading config: %v", err)
		}
		var part map[string]interface{}
		if err := json.Unmarshal(raw, &part); err != nil {
			fail("failed to parse %s: %v", file, err)
		}
		merge(config, part)
	}
	var problems []string
	loadKeys(keysFile).check(config, "", "", &problems)
	if len(problems) > 0 {
		fail("failed to parse %s: %d error(s) occurred:\n\t* %s", configDir, len(problems), strings.Join(problems, "\n\t* "))
	}

	server, _ := boolAt(config, "server")
	node := stringAt(config, "node_name", "")
	bind := stringAt(config, "bind_addr", "0.0.0.0")
	grpcTLSDefault := -1
	if server {
		grpcTLSDefault = 8503
	}
	var held []interface{ Close() error }
	listen := func(network, address string, p int) net.Listener {
		listener, err := net.Listen(network, net.JoinHostPort(address, strconv.Itoa(p)))
		if err != nil {
			fail("Error starting agent: Failed to start listener: %v", err)
		}
		held = append(held, listener)
		return listener
	}
	holdUDP := func(address string, p int) {
		conn, err := net.ListenPacket("udp", net.JoinHostPort(address, strconv.Itoa(p)))
		if err != nil {
			fail("Error starting agent: Failed to start DNS server: %v", err)
		}
		held = append(held, conn)
		go func() {
			buffer := make([]byte, 1500)
			for {
				if _, _, err := conn.ReadFrom(buffer); err != nil {
					return
				}
			}
		}()
	}
	drain := func(listener net.Listener) {
		go func() {
			for {
				conn, err := listener.Accept()
				if err != nil {
					return
				}
				conn.Close()
			}
		}()
	}

	advertise := stringAt(config, "advertise_addr", bind)
	datacenter := stringAt(config, "datacenter", "dc1")
	services := servicesOf(config)
	services.run()
	serviceToken := stringAt(config, "acl.tokens.config_file_service_registration", stringAt(config, "acl.tokens.default", ""))
	current := func() member {
		s, checks := services.snapshot()
		return member{Node: node, Address: advertise, Server: server, Datacenter: datacenter, Services: s, Checks: checks,
			ServiceToken: serviceToken}
	}
	expect := 0
	if server {
		expect = intAt(config, "bootstrap_expect", 0)
	}
	rpcPort := port(config, "server", 8300)
	agentCluster := newCluster(current(), rpcPort, stringsAt(config, "retry_join"), expect,
		timingFor(intAt(config, "performance.raft_multiplier", 5)))
	agentCluster.aclEnabled, _ = boolAt(config, "acl.enabled")
	if server {
		agentCluster.dataDir = dataDir
		agentCluster.restore()
		go agentCluster.persist()
	}
	agentCluster.management = stringAt(config, "acl.tokens.initial_management", "")
	agentCluster.defaultAllow = stringAt(config, "acl.default_policy", "allow") == "allow"
	mux := &api{cluster: agentCluster, server: server, datacenter: datacenter, local: current}
	mux.encrypted = stringAt(config, "encrypt", "") != ""
	mux.ui, _ = boolAt(config, "ui_config.enabled")

	if p := port(config, "http", 8500); p > 0 {
		for _, address := range addressesOf(config, "http") {
			go http.Serve(listen("tcp", address, p), mux)
		}
	}
	if p := port(config, "https", -1); p > 0 {
		stanza := "tls.https"
		cert := stringAt(config, stanza+".cert_file", stringAt(config, "tls.defaults.cert_file", ""))
		key := stringAt(config, stanza+".key_file", stringAt(config, "tls.defaults.key_file", ""))
		ca := stringAt(config, stanza+".ca_file", stringAt(config, "tls.defaults.ca_file", ""))
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			fail("Error starting agent: Failed to load cert/key pair: %v", err)
		}
		settings := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		verify, set := boolAt(config, stanza+".verify_incoming")
		if !set {
			verify, _ = boolAt(config, "tls.defaults.verify_incoming")
		}
		if verify {
			pem, err := os.ReadFile(ca)
			if err != nil {
				fail("Error starting agent: Failed to read CA file: %v", err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			settings.ClientCAs, settings.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		for _, address := range addressesOf(config, "https") {
			go http.Serve(tls.NewListener(listen("tcp", address, p), settings), mux)
		}
	}
	if p := port(config, "dns", 8600); p > 0 {
		ttl := func(path string) uint32 {
			value, _ := lookup(config, path)
			return uint32(durationAt(value, path, 0) / time.Second)
		}
		dns := &dnsServer{
			domain:      strings.ToLower(strings.Trim(stringAt(config, "domain", "consul"), ".")),
			datacenter:  datacenter,
			token:       stringAt(config, "acl.tokens.dns", stringAt(config, "acl.tokens.default", "")),
			nodeTTL:     ttl("dns_config.node_ttl"),
			serviceTTL:  ttl("dns_config.service_ttl.*"),
			answerLimit: intAt(config, "dns_config.udp_answer_limit", 3),
			lookup:      serverLookup(agentCluster, current()),
		}
		if recursors := stringsAt(config, "recursors"); len(recursors) > 0 {
			fail("consul twin: recursors are not modelled")
		}
		for _, address := range addressesOf(config, "dns") {
			go dns.serveTCP(listen("tcp", address, p))
			conn, err := net.ListenPacket("udp", net.JoinHostPort(address, strconv.Itoa(p)))
			if err != nil {
				fail("Error starting agent: Failed to start DNS server: %v", err)
			}
			held = append(held, conn)
			go dns.serveUDP(conn)
		}
	}
	if p := port(config, "grpc_tls", grpcTLSDefault); p > 0 {
		for _, address := range addressesOf(config, "grpc_tls") {
			drain(listen("tcp", address, p))
		}
	}
	if p := port(config, "grpc", -1); p > 0 {
		for _, address := range addressesOf(config, "grpc") {
			drain(listen("tcp", address, p))
		}
	}
	serf := []string{"serf_lan"}
	if server {
		serf = append(serf, "serf_wan")
		go agentCluster.serveInternal(listen("tcp", bind, rpcPort), mux)
	}
	for _, name := range serf {
		fallback := map[string]int{"serf_lan": 8301, "serf_wan": 8302}[name]
		if p := port(config, name, fallback); p > 0 {
			drain(listen("tcp", bind, p))
			holdUDP(bind, p)
		}
	}
	// agent/agent.go reloadWatches: a watch asks the agent's first HTTP address.
	if watches := watchesOf(config); len(watches) > 0 {
		httpPort, httpAddresses := port(config, "http", 8500), addressesOf(config, "http")
		if httpPort <= 0 || len(httpAddresses) == 0 {
			fail("consul twin: watches without an HTTP listener are not modelled")
		}
		for _, watch := range watches {
			go watch.run("http://" + net.JoinHostPort(httpAddresses[0], strconv.Itoa(httpPort)))
		}
	}
	go agentCluster.gossip(current)
	if server {
		go agentCluster.run()
	}
	fmt.Printf("==> Consul twin agent running: node %s, server %v\n", node, server)
	select {}
}
