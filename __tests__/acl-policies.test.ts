import { aclRoles, renderAclPlan } from "../renderers";
import { articleInput, labOf } from "./tools/helpers";

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
  it("has a role per node, consul-template, the watch, the Consul stack and verify", () => {
    expect(Object.keys(roles)).toEqual([
      "node-dev1001",
      "node-dev1002",
      "node-dev1003",
      "node-dev1004",
      "node-dev1005",
      "node-dev1006",
      "dns",
      "consul-template",
      "maintenance-watch",
      "terraform",
      "verify",
    ]);
  });

  it("lets verify read what it checks and write only the operator's switch (and its probe), never manage", () => {
    const verify = grants(roles.verify);
    expect(verify.filter((grant) => grant.endsWith("write"))).toEqual([
      'key "web/test.hoge.dev.jp/maintenance/operator" write',
      'key "consul-lab/verify/anonymous-write-probe" write',
    ]);
    expect(verify).toContain('key_prefix "web/test.hoge.dev.jp/maintenance/" read');
    expect(roles.verify).toContain('operator = "read"');
    expect(roles.verify).not.toMatch(/acl|key_prefix "" |operator = "write"/);
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

  it("lets the watch handler write the maintenance key and no other, and read the site's instance list", () => {
    const watch = grants(roles["maintenance-watch"]);
    expect(watch).toEqual([
      'service "test_hoge_dev_jp" read',
      'node_prefix "" read',
      'key "web/test.hoge.dev.jp/maintenance/key" write',
      'key "web/test.hoge.dev.jp/maintenance/instances" read',
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

  it("lets DNS (its own token, on every agent) read node, service and prepared query names only", () => {
    expect(grants(roles.dns)).toEqual(['node_prefix "" read', 'service_prefix "" read', 'query_prefix "" read']);
    expect(roles.dns).not.toMatch(/key|acl|operator|agent|write/);
  });

  it("follows the topology's names and keys", () => {
    const input = articleInput();
    input.site = { maintenanceKey: "shop/flags/maintenance" };
    const custom = Object.fromEntries(aclRoles(labOf(input)).map((role) => [role.name, role.rules]));
    expect(grants(custom["maintenance-watch"])).toContain('key "shop/flags/maintenance" write');
    expect(grants(custom["consul-template"])).toContain('key_prefix "shop/flags/" read');
  });

  it("plans a token per role with a stable accessor ID, and leaves the anonymous token with nothing", () => {
    const plan = renderAclPlan(lab);
    expect(plan.tokens.map((token) => token.role)).toEqual(Object.keys(roles));
    expect(plan.tokens.every((token) => token.policies.length === 1 && token.policies[0] === token.role)).toBe(true);
    expect(new Set(plan.tokens.map((token) => token.accessorId)).size).toBe(plan.tokens.length);
    expect(renderAclPlan(labOf()).tokens).toEqual(plan.tokens);
    expect(plan.anonymousToken).toEqual({ accessorId: "00000000-0000-0000-0000-000000000002", policies: [] });
    expect(plan.policies.map((policy) => policy.name)).toEqual(Object.keys(roles));
    // Every token says it is this lab's, which is how a later plan finds the ones it dropped.
    expect(plan.tokens.every((token) => token.description.startsWith("consul-lab consul-lab/"))).toBe(true);
  });
});
