import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { articleWithExtraApps } from "./tools/helpers";
import { runApp, sharedDefaultRun } from "./tools/synth";

type Resources = Map<string, unknown>;

/** Every resource of every stack, by its Terraform address (`stack/type.name`). */
function resourcesOf(files: Record<string, string>): Resources {
  const resources: Resources = new Map();
  for (const [path, text] of Object.entries(files)) {
    const stack = /^stacks\/([^/]+)\/cdk\.tf\.json$/.exec(path)?.[1];
    if (!stack) continue;
    for (const [type, byName] of Object.entries(JSON.parse(text).resource ?? {})) {
      for (const [name, body] of Object.entries(byName as Record<string, unknown>))
        resources.set(`${stack}/${type}.${name}`, body);
    }
  }
  return resources;
}

describe("adding a node to the topology", () => {
  const before = resourcesOf(sharedDefaultRun().files);
  const file = join(mkdtempSync(join(tmpdir(), "consul-lab-stable-")), "with-dev1007.json");
  writeFileSync(file, JSON.stringify(articleWithExtraApps(1)));
  const afterFiles = runApp({ CONSUL_LAB_TOPOLOGY: file }).files;
  const after = resourcesOf(afterFiles);

  it("keeps every existing resource at its address with the same properties, but the ACL plan", () => {
    const changed = [...before].filter(
      ([address, body]) => JSON.stringify(after.get(address)) !== JSON.stringify(body),
    );
    // The ACL bootstrap runs again to create dev1007's token, and the site's instance list gains dev1007 (a KV value
    // updated in place): nothing in the cluster is replaced, the load balancers included.
    expect(changed.map(([address]) => address.replace(/_[0-9A-F]{8}$/, ""))).toEqual([
      "cluster/terraform_data.cluster_acl-bootstrap_apply",
      "consul/consul_keys.catalog_site-instances",
    ]);
    // The plan itself is a file beside the stack's JSON; the bootstrap's trigger holds its digest.
    const [[address, body]] = changed;
    const digest = (value: unknown) =>
      (value as { triggers_replace: { planSha256: string } }).triggers_replace.planSha256;
    expect(digest(after.get(address))).not.toBe(digest(body));
    const roles = (files: Record<string, string>): string[] =>
      JSON.parse(files["stacks/cluster/acl-plan.json"]).tokens.map((token: { role: string }) => token.role);
    const old = roles(sharedDefaultRun().files);
    expect(roles(afterFiles)).toEqual([...old.slice(0, 6), "node-dev1007", ...old.slice(6)]);
  });

  it("only adds dev1007's own resources", () => {
    const added = [...after.keys()]
      .filter((address) => !before.has(address))
      .map((address) => address.replace(/_[0-9A-F]{8}$/, ""));
    expect(added.sort()).toEqual([
      "cluster/docker_container.cluster_dev1007_agent_container",
      "cluster/docker_container.cluster_dev1007_dns_container",
      "cluster/docker_container.cluster_dev1007_namespace_container",
      "cluster/docker_container.cluster_dev1007_workload_container",
      "cluster/docker_volume.cluster_dev1007_agent_data",
      "cluster/terraform_data.cluster_dev1007_namespace_published-ports",
    ]);
  });
});
