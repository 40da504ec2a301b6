// Consul's DNS interface as the lab asks it (agent/dns.go at v1.20.2, the v1 DNS server): over UDP and TCP on the DNS
// listener, for names under the configured domain:
//
//   - <node>.node[.<dc>].<domain>: the node's address (A);
//   - [<tag>.]<service>.service[.<dc>].<domain> and _<service>._<tag or tcp>.service[.<dc>].<domain> (RFC 2782): the
//     service's instances that pass, and warn (a critical check leaves an instance out; only_passing is off by
//     default), as A records of the service's address or else its node's, or SRV records whose target is the node's
//     name with its address in the additional section; at most dns_config.udp_answer_limit records over UDP (3);
//   - anything else under the domain: NXDOMAIN with the domain's SOA; a name outside the domain, with no recursors:
//     SERVFAIL (no handler is registered for ".", and the DNS library answers SERVFAIL).
//
// Lookups are stale reads (dns_config.allow_stale) with acl.tokens.dns, as the agent makes them. The TTLs are
// dns_config.node_ttl and service_ttl["*"] (both 0 by default). <query>.query[.<dc>].<domain> executes a prepared
// query (its DNS TTL). Other record types answer NOTIMP here: not modelled.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	typeA    = 1
	typeSOA  = 6
	typeSRV  = 33
	typeAAAA = 28
	typeANY  = 255

	rcodeOK       = 0
	rcodeServFail = 2
	rcodeNXDomain = 3
	rcodeNotImpl  = 4
)

type dnsServer struct {
	domain      string
	datacenter  string
	token       string
	nodeTTL     uint32
	serviceTTL  uint32
	answerLimit int
	lookup      func(path, token string) ([]byte, error)
}

type question struct {
	name  string
	qtype uint16
	raw   []byte // the question section as asked
}

func parseQuestion(message []byte) (question, error) {
	if len(message) < 12 || binary.BigEndian.Uint16(message[4:6]) != 1 {
		return question{}, errors.New("one question expected")
	}
	offset, labels := 12, []string{}
	for {
		if offset >= len(message) {
			return question{}, errors.New("truncated name")
		}
		length := int(message[offset])
		offset++
		if length == 0 {
			break
		}
		if length > 63 || offset+length > len(message) {
			return question{}, errors.New("bad label")
		}
		labels = append(labels, string(message[offset:offset+length]))
		offset += length
	}
	if offset+4 > len(message) {
		return question{}, errors.New("truncated question")
	}
	return question{
		name:  strings.ToLower(strings.Join(labels, ".")),
		qtype: binary.BigEndian.Uint16(message[offset : offset+2]),
		raw:   message[12 : offset+4],
	}, nil
}

func encodeName(name string) []byte {
	var out []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" {
			continue
		}
		out = append(out, byte(len(label)))
		out = append(out, label...)
	}
	return append(out, 0)
}

func record(name string, rtype uint16, ttl uint32, data []byte) []byte {
	out := encodeName(name)
	fixed := make([]byte, 10)
	binary.BigEndian.PutUint16(fixed[0:2], rtype)
	binary.BigEndian.PutUint16(fixed[2:4], 1)
	binary.BigEndian.PutUint32(fixed[4:8], ttl)
	binary.BigEndian.PutUint16(fixed[8:10], uint16(len(data)))
	return append(append(out, fixed...), data...)
}

func aRecord(name string, ttl uint32, address string) []byte {
	return record(name, typeA, ttl, net.ParseIP(address).To4())
}

func (d *dnsServer) soa() []byte {
	data := append(encodeName("ns."+d.domain), encodeName("hostmaster."+d.domain)...)
	numbers := make([]byte, 20)
	binary.BigEndian.PutUint32(numbers[0:4], uint32(time.Now().Unix()))
	binary.BigEndian.PutUint32(numbers[4:8], 3600)
	binary.BigEndian.PutUint32(numbers[8:12], 600)
	binary.BigEndian.PutUint32(numbers[12:16], 86400)
	binary.BigEndian.PutUint32(numbers[16:20], 0)
	return record(d.domain, typeSOA, 0, append(data, numbers...))
}

func reply(request []byte, q question, rcode int, answers, authority, additional [][]byte) []byte {
	header := make([]byte, 12)
	copy(header[0:2], request[0:2])
	flags := uint16(0x8000) | uint16(0x0400) | (binary.BigEndian.Uint16(request[2:4]) & 0x0100) | 0x0080 | uint16(rcode)
	binary.BigEndian.PutUint16(header[2:4], flags)
	binary.BigEndian.PutUint16(header[4:6], 1)
	binary.BigEndian.PutUint16(header[6:8], uint16(len(answers)))
	binary.BigEndian.PutUint16(header[8:10], uint16(len(authority)))
	binary.BigEndian.PutUint16(header[10:12], uint16(len(additional)))
	out := append(header, q.raw...)
	for _, section := range [][][]byte{answers, authority, additional} {
		for _, rr := range section {
			out = append(out, rr...)
		}
	}
	return out
}

type healthEntry struct {
	Node struct {
		Node    string
		Address string
	}
	Service struct {
		Service string
		Tags    []string
		Port    int
		Address string
	}
	Checks []struct{ Status string }
}

// answer builds the response to one query; udp limits the answer count.
func (d *dnsServer) answer(request []byte, udp bool) []byte {
	q, err := parseQuestion(request)
	if err != nil {
		header := make([]byte, 12)
		copy(header, request)
		binary.BigEndian.PutUint16(header[2:4], 0x8000|1)
		return header
	}
	suffix := "." + d.domain
	if q.name != d.domain && !strings.HasSuffix(q.name, suffix) {
		return reply(request, q, rcodeServFail, nil, nil, nil)
	}
	labels := strings.Split(strings.TrimSuffix(q.name, suffix), ".")
	// An optional datacenter label after node/service.
	if len(labels) >= 2 && labels[len(labels)-1] == d.datacenter {
		labels = labels[:len(labels)-1]
	}
	if len(labels) < 2 {
		return reply(request, q, rcodeNXDomain, nil, [][]byte{d.soa()}, nil)
	}
	kind := labels[len(labels)-1]
	switch {
	case q.qtype != typeA && q.qtype != typeSRV && q.qtype != typeAAAA && q.qtype != typeANY:
		return reply(request, q, rcodeNotImpl, nil, nil, nil)
	case kind == "node" && len(labels) == 2:
		raw, err := d.lookup("/v1/catalog/nodes?stale", d.token)
		if err != nil {
			return reply(request, q, rcodeServFail, nil, nil, nil)
		}
		var nodes []struct{ Node, Address string }
		json.Unmarshal(raw, &nodes)
		for _, node := range nodes {
			if strings.EqualFold(node.Node, labels[0]) {
				if q.qtype == typeAAAA || q.qtype == typeSRV {
					return reply(request, q, rcodeOK, nil, [][]byte{d.soa()}, nil)
				}
				return reply(request, q, rcodeOK, [][]byte{aRecord(q.name, d.nodeTTL, node.Address)}, nil, nil)
			}
		}
		return reply(request, q, rcodeNXDomain, nil, [][]byte{d.soa()}, nil)
	case kind == "service" && (len(labels) == 2 || len(labels) == 3):
		service, tag := labels[len(labels)-2], ""
		if len(labels) == 3 {
			tag = labels[0]
		}
		if strings.HasPrefix(labels[0], "_") && len(labels) == 3 {
			service, tag = strings.TrimPrefix(labels[0], "_"), strings.TrimPrefix(labels[1], "_")
			if tag == "tcp" {
				tag = ""
			}
		}
		raw, err := d.lookup("/v1/health/service/"+service+"?stale", d.token)
		if err != nil {
			return reply(request, q, rcodeServFail, nil, nil, nil)
		}
		var entries []healthEntry
		json.Unmarshal(raw, &entries)
		var healthy []healthEntry
		for _, entry := range entries {
			critical, tagged := false, tag == ""
			for _, check := range entry.Checks {
				critical = critical || check.Status == "critical"
			}
			for _, candidate := range entry.Service.Tags {
				tagged = tagged || strings.EqualFold(candidate, tag)
			}
			if !critical && tagged {
				healthy = append(healthy, entry)
			}
		}
		return d.instances(request, q, udp, healthy, d.serviceTTL)
	case kind == "query" && len(labels) == 2:
		raw, err := d.lookup("/v1/query/"+labels[0]+"/execute?stale", d.token)
		if err != nil && strings.Contains(err.Error(), "Query not found") {
			return reply(request, q, rcodeNXDomain, nil, [][]byte{d.soa()}, nil)
		}
		if err != nil {
			return reply(request, q, rcodeServFail, nil, nil, nil)
		}
		var result struct {
			Nodes []healthEntry
			DNS   struct{ TTL string }
		}
		json.Unmarshal(raw, &result)
		ttl := d.serviceTTL
		if result.DNS.TTL != "" {
			value, _ := time.ParseDuration(result.DNS.TTL)
			ttl = uint32(value / time.Second)
		}
		return d.instances(request, q, udp, result.Nodes, ttl)
	default:
		return reply(request, q, rcodeNXDomain, nil, [][]byte{d.soa()}, nil)
	}
}

// instances answers A or SRV records for a service's healthy instances.
func (d *dnsServer) instances(request []byte, q question, udp bool, healthy []healthEntry, ttl uint32) []byte {
	if len(healthy) == 0 {
		return reply(request, q, rcodeNXDomain, nil, [][]byte{d.soa()}, nil)
	}
	rand.Shuffle(len(healthy), func(i, j int) { healthy[i], healthy[j] = healthy[j], healthy[i] })
	if udp && len(healthy) > d.answerLimit {
		healthy = healthy[:d.answerLimit]
	}
	var answers, additional [][]byte
	for _, entry := range healthy {
		address := entry.Service.Address
		if address == "" {
			address = entry.Node.Address
		}
		switch q.qtype {
		case typeA, typeANY:
			answers = append(answers, aRecord(q.name, ttl, address))
		case typeSRV:
			target := entry.Node.Node + ".node." + d.datacenter + "." + d.domain
			if entry.Service.Address != "" && entry.Service.Address != entry.Node.Address {
				target = fmt.Sprintf("%x.addr.%s.%s", []byte(net.ParseIP(address).To4()), d.datacenter, d.domain)
			}
			data := make([]byte, 6)
			binary.BigEndian.PutUint16(data[0:2], 1)
			binary.BigEndian.PutUint16(data[2:4], 1)
			binary.BigEndian.PutUint16(data[4:6], uint16(entry.Service.Port))
			answers = append(answers, record(q.name, typeSRV, ttl, append(data, encodeName(target)...)))
			additional = append(additional, aRecord(target, ttl, address))
		}
	}
	if len(answers) == 0 {
		return reply(request, q, rcodeOK, nil, [][]byte{d.soa()}, nil)
	}
	return reply(request, q, rcodeOK, answers, nil, additional)
}

func (d *dnsServer) serveUDP(conn net.PacketConn) {
	buffer := make([]byte, 4096)
	for {
		n, from, err := conn.ReadFrom(buffer)
		if err != nil {
			return
		}
		request := append([]byte(nil), buffer[:n]...)
		go func() { conn.WriteTo(d.answer(request, true), from) }()
	}
}

func (d *dnsServer) serveTCP(listener net.Listener) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		go func(conn net.Conn) {
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			for {
				length := make([]byte, 2)
				if _, err := io.ReadFull(conn, length); err != nil {
					return
				}
				request := make([]byte, binary.BigEndian.Uint16(length))
				if _, err := io.ReadFull(conn, request); err != nil {
					return
				}
				response := d.answer(request, false)
				out := make([]byte, 2, 2+len(response))
				binary.BigEndian.PutUint16(out, uint16(len(response)))
				conn.Write(append(out, response...))
			}
		}(conn)
	}
}

// serverLookup asks the first server that answers, as the agent's RPC would, for a stale read with a token.
func serverLookup(c *cluster, self member) func(path, token string) ([]byte, error) {
	return func(path, token string) ([]byte, error) {
		candidates := c.join
		if self.Server {
			candidates = append([]string{self.Address}, c.join...)
		}
		for _, address := range candidates {
			request, _ := http.NewRequest("GET", "http://"+c.rpcAddress(address)+path, nil)
			request.Header.Set(forwardedHeader, "1")
			if token != "" {
				request.Header.Set("X-Consul-Token", token)
			}
			response, err := c.client.Do(request)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(response.Body)
			response.Body.Close()
			if response.StatusCode != 200 {
				return nil, fmt.Errorf("%s: %d %s", path, response.StatusCode, body)
			}
			return body, nil
		}
		return nil, errors.New("No known Consul servers")
	}
}
