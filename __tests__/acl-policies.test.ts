import { aclRoles, dnsPolicy, renderAclPlan } from "../renderers";
import { articleInput, labOf } from "./helpers";

const lab = labOf();
const roles = Object.fromEntries(aclRoles(lab).map((role) => [role.name, role.rules]));

/** The rules as `resource "name" = policy` lines, so assertions read as the grant table. */
function grants(rules: string): string[] {
  const blocks = [...rules.matchAll(/^(\w+) "([^"]*)" \{\n {2}policy = "(\w+)"\n\}/gm)].map(
    (m) => `${m[1]} "${m[2]}" ${m[3]}`,
  );
  const flat = [...rules.matchAll(/^(\w+) = "(\w+)"$/gm)].map((m) => `${m[1]} ${m[2]}`);
  return [...blocks, ...flat];
}

describe("ACL policies", () => {
  it("has a role per node, consul-template, the watch and the Consul stack", () => {
    expect(Object.keys(roles)).toEqual([
      "node-dev1001",
      "node-dev1002",
      "node-dev1003",
      "node-dev1004",
      "node-dev1005",
      "node-dev1006",
      "consul-template",
      "maintenance-watch",
      "terraform",
    ]);
  });

  it("lets an agent write its own node and the services it registers, and read other services", () => {
    expect(grants(roles["node-dev1004"])).toEqual([
      'node "dev1004" write',
      'service_prefix "" read',
      'service "test_hoge_dev_jp" write',
    ]);
    expect(grants(roles["node-dev1002"])).toEqual([
      'node "dev1002" write',
      'service_prefix "" read',
      'service "nginx" write',
    ]);
  });

  it("lets consul-template read the site's service and the maintenance folder, nothing else", () => {
    expect(grants(roles["consul-template"])).toEqual([
      'service "test_hoge_dev_jp" read',
      'node_prefix "" read',
      'key_prefix "web/test.hoge.dev.jp/maintenance/" read',
    ]);
  });

  it("lets the watch handler write the maintenance key and no other", () => {
    const watch = grants(roles["maintenance-watch"]);
    expect(watch).toEqual([
      'service "test_hoge_dev_jp" read',
      'node_prefix "" read',
      'key "web/test.hoge.dev.jp/maintenance/key" write',
    ]);
    expect(watch.filter((grant) => grant.endsWith("write"))).toEqual([
      'key "web/test.hoge.dev.jp/maintenance/key" write',
    ]);
    expect(roles["maintenance-watch"]).not.toMatch(/key_prefix/);
  });

  it("lets the Consul stack manage exactly its own objects", () => {
    expect(grants(roles.terraform)).toEqual([
      'node "vagrant" write',
      'service "vagrant" write',
      'service "test_hoge_dev_jp" read',
      'query "test_hoge_dev_jp" write',
      'key "web/test.hoge.dev.jp/maintenance/instances" write',
      'key "web/test.hoge.dev.jp/description" write',
      "operator write",
    ]);
    // Never the runtime-owned flag, nor the operator's switch.
    expect(roles.terraform).not.toContain('"web/test.hoge.dev.jp/maintenance/key"');
    expect(roles.terraform).not.toContain('"web/test.hoge.dev.jp/maintenance/operator"');
    expect(roles.terraform).not.toMatch(/acl\s*=/);
  });

  it("lets DNS (the anonymous token) read node and service names only", () => {
    const dns = dnsPolicy();
    expect(grants(dns.rules)).toEqual(['node_prefix "" read', 'service_prefix "" read']);
    expect(dns.rules).not.toMatch(/key|acl|operator|query|agent/);
  });

  it("follows the topology's names and keys", () => {
    const input = articleInput();
    input.site = { maintenanceKey: "shop/flags/maintenance" };
    const custom = Object.fromEntries(aclRoles(labOf(input)).map((role) => [role.name, role.rules]));
    expect(grants(custom["maintenance-watch"])).toContain('key "shop/flags/maintenance" write');
    expect(grants(custom["consul-template"])).toContain('key_prefix "shop/flags/" read');
  });

  it("plans a token per role with a stable accessor ID, and the DNS policy for the anonymous token", () => {
    const plan = renderAclPlan(lab);
    expect(plan.tokens.map((token) => token.role)).toEqual(Object.keys(roles));
    expect(plan.tokens.every((token) => token.policies.length === 1 && token.policies[0] === token.role)).toBe(true);
    expect(new Set(plan.tokens.map((token) => token.accessorId)).size).toBe(plan.tokens.length);
    expect(renderAclPlan(labOf()).tokens).toEqual(plan.tokens);
    expect(plan.anonymousToken).toEqual({ accessorId: "00000000-0000-0000-0000-000000000002", policies: ["dns"] });
    expect(plan.policies.map((policy) => policy.name)).toEqual([...Object.keys(roles), "dns"]);
  });
});
