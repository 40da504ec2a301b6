// ACLs as Consul 1.20 applies them to what the lab does (acl/policy.go, acl/policy_authorizer.go, agent/acl_endpoint.go):
//
//   - The leader creates the built-in global-management policy, the anonymous token and a token for
//     acl.tokens.initial_management once it is elected (agent/consul/leader.go, initializeACLs); until then every
//     token but none is "ACL not found".
//   - Policies are HCL rules of the forms the lab writes: `<resource> "<name>" { policy = "<p>" }`, its `_prefix`
//     form, and `<resource> = "<p>"` for operator, acl, keyring, mesh and peering. Anything else in a policy's rules
//     is refused when the policy is written: not modelled.
//   - A rule for a resource's exact name wins over prefix rules, and the longest prefix over shorter ones; read
//     implies list, write implies read; with no rule, acl.default_policy decides.
//   - Reads of lists (catalog, health, members, KV recurse and keys) leave out what the token may not read; reads of
//     one thing and every write are refused with 403 and Consul's "Permission denied" message.
//   - An agent registers its node with acl.tokens.agent (node:write) and its services with
//     acl.tokens.config_file_service_registration (service:write), else the default token; a registration the
//     token does not allow is blocked and tried again 15 s later, as the agent's state syncer does
//     (agent/ae/ae.go, retryFailIntv).
package main

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

const (
	globalManagementID = "00000000-0000-0000-0000-000000000001"
	anonymousAccessor  = "00000000-0000-0000-0000-000000000002"
)

type policyLink struct {
	ID   string
	Name string
}

type aclPolicy struct {
	ID          string
	Name        string
	Description string
	Rules       string
	Datacenters []string
	CreateIndex uint64
	ModifyIndex uint64
}

type aclToken struct {
	AccessorID  string
	SecretID    string
	Description string
	Policies    []policyLink
	Local       bool
	CreateIndex uint64
	ModifyIndex uint64
}

type rule struct {
	kind   string
	name   string
	prefix bool
	policy string
}

var (
	blockRule    = regexp.MustCompile(`^([a-z_]+)\s+"([^"]*)"\s*\{\s*policy\s*=\s*"([a-z]+)"\s*\}`)
	scalarRule   = regexp.MustCompile(`^([a-z_]+)\s*=\s*"([a-z]+)"`)
	namedKinds   = map[string]bool{"key": true, "service": true, "node": true, "query": true, "agent": true, "session": true, "event": true}
	scalarKinds  = map[string]bool{"operator": true, "acl": true, "keyring": true, "mesh": true, "peering": true}
	policyLevels = map[string]int{"deny": 0, "list": 1, "read": 2, "write": 3}
)

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = (b[6]&0x0f)|0x40, (b[8]&0x3f)|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// parseRules reads a policy's rules, or says what it cannot read.
func parseRules(text string) ([]rule, error) {
	var rules []rule
	rest := text
	for {
		rest = strings.TrimLeft(rest, " \t\r\n")
		for strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "//") {
			if end := strings.Index(rest, "\n"); end >= 0 {
				rest = strings.TrimLeft(rest[end:], " \t\r\n")
			} else {
				rest = ""
			}
		}
		if rest == "" {
			return rules, nil
		}
		if m := blockRule.FindStringSubmatch(rest); m != nil {
			kind, prefix := strings.TrimSuffix(m[1], "_prefix"), strings.HasSuffix(m[1], "_prefix")
			if !namedKinds[kind] {
				return nil, fmt.Errorf("Failed to parse ACL rules: the consul twin does not model the resource %q", m[1])
			}
			if _, ok := policyLevels[m[3]]; !ok || (m[3] == "list" && kind != "key") {
				return nil, fmt.Errorf("Failed to parse ACL rules: Invalid %s policy: %q", m[1], m[3])
			}
			rules = append(rules, rule{kind: kind, name: m[2], prefix: prefix, policy: m[3]})
			rest = rest[len(m[0]):]
			continue
		}
		if m := scalarRule.FindStringSubmatch(rest); m != nil && scalarKinds[m[1]] {
			if _, ok := policyLevels[m[2]]; !ok || m[2] == "list" {
				return nil, fmt.Errorf("Failed to parse ACL rules: Invalid %s policy: %q", m[1], m[2])
			}
			rules = append(rules, rule{kind: m[1], policy: m[2]})
			rest = rest[len(m[0]):]
			continue
		}
		line := strings.SplitN(rest, "\n", 2)[0]
		return nil, fmt.Errorf("Failed to parse ACL rules: the consul twin does not model %q", line)
	}
}

// authorizer is what a token may do.
type authorizer struct {
	accessor   string
	management bool
	rules      []rule
	allowAll   bool // acl.default_policy "allow"
}

// level is the token's access to a resource: its exact rules, else its longest prefix's, else the default. Between
// rules of several policies for one name, a deny wins, else the most permissive (acl/policy_merger.go).
func (a *authorizer) level(kind, name string) int {
	if a.management {
		return policyLevels["write"]
	}
	merge := func(rules []rule) int {
		best := -1
		for _, r := range rules {
			if r.policy == "deny" {
				return policyLevels["deny"]
			}
			if policyLevels[r.policy] > best {
				best = policyLevels[r.policy]
			}
		}
		return best
	}
	var exact, longest []rule
	longestLength := -1
	for _, r := range a.rules {
		switch {
		case r.kind != kind:
		case !r.prefix && (r.name == name || scalarKinds[kind]):
			exact = append(exact, r)
		case r.prefix && strings.HasPrefix(name, r.name):
			if len(r.name) > longestLength {
				longest, longestLength = nil, len(r.name)
			}
			if len(r.name) == longestLength {
				longest = append(longest, r)
			}
		}
	}
	if len(exact) > 0 {
		return merge(exact)
	}
	if len(longest) > 0 {
		return merge(longest)
	}
	if a.allowAll {
		return policyLevels["write"]
	}
	return policyLevels["deny"]
}

func (a *authorizer) allows(kind, name, need string) bool {
	return a.level(kind, name) >= policyLevels[need]
}

// denied is Consul's message for a refused request (acl/errors.go, PermissionDeniedError).
func (a *authorizer) denied(kind, name, need string) string {
	if name == "" {
		return fmt.Sprintf("Permission denied: token with AccessorID '%s' lacks permission '%s:%s'", a.accessor, kind, need)
	}
	return fmt.Sprintf("Permission denied: token with AccessorID '%s' lacks permission '%s:%s' on %q", a.accessor, kind, need, name)
}

// initializeACLs is what a newly elected leader does for ACLs; the caller holds the cluster's lock.
func (s *replicated) initializeACLs(management string) {
	if s.Policies == nil {
		s.Policies = map[string]aclPolicy{}
	}
	if s.Tokens == nil {
		s.Tokens = map[string]aclToken{}
	}
	if _, ok := s.Policies[globalManagementID]; !ok {
		s.Index++
		s.Policies[globalManagementID] = aclPolicy{ID: globalManagementID, Name: "global-management",
			Description: "Builtin Policy that grants unlimited access", Rules: "", CreateIndex: s.Index, ModifyIndex: s.Index}
	}
	if _, ok := s.Tokens[anonymousAccessor]; !ok {
		s.Index++
		s.Tokens[anonymousAccessor] = aclToken{AccessorID: anonymousAccessor, SecretID: "anonymous",
			Description: "Anonymous Token", Policies: []policyLink{}, CreateIndex: s.Index, ModifyIndex: s.Index}
	}
	if management == "" {
		return
	}
	for _, token := range s.Tokens {
		if token.SecretID == management {
			return
		}
	}
	s.Index++
	accessor := uuid()
	s.Tokens[accessor] = aclToken{AccessorID: accessor, SecretID: management, Description: "Initial Management Token",
		Policies: []policyLink{{ID: globalManagementID, Name: "global-management"}}, CreateIndex: s.Index, ModifyIndex: s.Index}
}

// authorize finds a token's authorizer by its secret ("" is the anonymous token); nil when unknown.
func (s *replicated) authorize(secret string, allowAll bool) *authorizer {
	if secret == "" {
		secret = "anonymous"
	}
	for _, token := range s.Tokens {
		if token.SecretID != secret {
			continue
		}
		a := &authorizer{accessor: token.AccessorID, allowAll: allowAll}
		for _, link := range token.Policies {
			if link.ID == globalManagementID {
				a.management = true
			}
			if policy, ok := s.Policies[link.ID]; ok {
				rules, _ := parseRules(policy.Rules)
				a.rules = append(a.rules, rules...)
			}
		}
		return a
	}
	return nil
}

// resolveLinks fills each policy link's ID or name from the other, or says which policy is missing.
func (s *replicated) resolveLinks(links []policyLink) ([]policyLink, error) {
	out := []policyLink{}
	for _, link := range links {
		found := false
		for _, policy := range s.Policies {
			if policy.ID == link.ID || (link.ID == "" && policy.Name == link.Name) {
				out = append(out, policyLink{ID: policy.ID, Name: policy.Name})
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("cannot find policy %s%s", link.ID, link.Name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
