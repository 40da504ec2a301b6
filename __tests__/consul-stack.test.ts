import { AutopilotConfig } from "@cdktf/provider-consul/lib/autopilot-config";
import { Keys } from "@cdktf/provider-consul/lib/keys";
import { Node } from "@cdktf/provider-consul/lib/node";
import { PreparedQuery } from "@cdktf/provider-consul/lib/prepared-query";
import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { Service } from "@cdktf/provider-consul/lib/service";
import { Testing } from "cdktf";
import { KV_DATA_FILE } from "../constructs/consul-objects";
import { ClusterStack, ConsulStack } from "../stacks";
import { articleInput, labOf, problemsOf } from "./tools/helpers";
import { sharedDefaultRun } from "./tools/synth";

function consulStackOf(input: unknown = articleInput()) {
  const lab = labOf(input);
  const app = Testing.app();
  const cluster = new ClusterStack(app, "cluster", { lab });
  const consul = new ConsulStack(app, "consul", { lab, cluster });
  return { synthesized: Testing.synth(consul), consul, cluster };
}

describe("the Consul stack", () => {
  const { synthesized } = consulStackOf();
  const json = JSON.parse(synthesized);

  it("registers the article's external service on its own catalog node", () => {
    expect(synthesized).toHaveResourceWithProperties(Node, {
      name: "vagrant",
      address: "10.0.1.100",
      datacenter: "dc1",
    });
    expect(synthesized).toHaveResourceWithProperties(Service, {
      name: "vagrant",
      node: expect.stringMatching(/^\$\{consul_node\.catalog_external-vagrant_node_[0-9A-F]+\.name\}$/),
    });
  });

  it("turns on autopilot's dead-server cleanup", () => {
    expect(synthesized).toHaveResourceWithProperties(AutopilotConfig, {
      cleanup_dead_servers: true,
      last_contact_threshold: "200ms",
      max_trailing_logs: 250,
      server_stabilization_time: "10s",
    });
  });

  it("offers the site's passing app servers as a prepared query", () => {
    expect(synthesized).toHaveResourceWithProperties(PreparedQuery, {
      name: "test_hoge_dev_jp",
      service: "test_hoge_dev_jp",
      tags: ["web", "!sorry"],
      only_passing: true,
    });
  });

  it("owns its KV entries key by key, read from its data file, and never the maintenance flag", () => {
    // One key block per entry of kv.json, which holds the topology's KV and nothing else.
    expect(synthesized).toHaveResourceWithProperties(Keys, {
      dynamic: {
        key: {
          for_each: `\${jsondecode(file(join("/", [path.module, "${KV_DATA_FILE}"])))}`,
          iterator: "each",
          content: { path: "${each.key}", value: "${each.value}" },
        },
      },
    });
    const written = sharedDefaultRun().files;
    expect(JSON.parse(written[`stacks/consul/${KV_DATA_FILE}`])).toEqual(labOf(articleInput()).topology.kv);
    expect(json.resource.consul_key_prefix).toBeUndefined();
    expect(synthesized).not.toContain("maintenance/key");
  });

  it("writes no data file and no KV resource for a topology without KV", () => {
    const { synthesized: withoutKv } = consulStackOf({ ...articleInput(), kv: {} });
    expect(Object.values(JSON.parse(withoutKv).resource.consul_keys)).toHaveLength(1);
  });

  it("talks to the published HTTP API the topology names, with no reference into the cluster's state", () => {
    const written = sharedDefaultRun().files;
    const json = JSON.parse(written["stacks/consul/cdk.tf.json"]);
    expect(JSON.stringify(json)).toHaveProviderWithProperties(ConsulProvider, {
      address: "127.0.0.1:8500",
      scheme: "https",
      ca_pem: "${var.tls_ca_cert}",
    });
    expect(json.data?.terraform_remote_state).toBeUndefined();
  });

  it("speaks the article's plain HTTP to an open lab, with no CA", () => {
    const open = consulStackOf({ ...articleInput(), security: "none" }).synthesized;
    expect(open).toHaveProviderWithProperties(ConsulProvider, { address: "127.0.0.1:8500", scheme: "http" });
    expect(JSON.parse(open).provider.consul[0].ca_pem).toBeUndefined();
  });

  it("dials loopback when the API is published on every address (0.0.0.0), which the server's certificate names", () => {
    const input = articleInput();
    input.publish = { address: "0.0.0.0", exposeOnNetwork: true };
    expect(consulStackOf(input).synthesized).toHaveProviderWithProperties(ConsulProvider, {
      address: "127.0.0.1:8500",
      scheme: "https",
    });
  });

  it("follows publish.address and publish.httpPort", () => {
    const input = articleInput();
    input.publish = { address: "127.0.0.2", httpPort: 18500 };
    expect(consulStackOf(input).synthesized).toHaveProviderWithProperties(ConsulProvider, {
      address: "127.0.0.2:18500",
    });
  });

  it("refuses KV that would manage the maintenance flag", () => {
    const input = articleInput();
    input.kv = { "web/test.hoge.dev.jp/maintenance/key": "off" };
    expect(problemsOf(input)).toContain(
      'kv["web/test.hoge.dev.jp/maintenance/key"]: would let Terraform manage the maintenance flag "web/test.hoge.dev.jp/maintenance/key", which the watch handler owns; use another key',
    );
  });

  it("refuses an external service on a lab node", () => {
    const input = articleInput();
    input.externalServices = [{ node: "dev1004", address: "10.0.1.100", service: "x" }];
    expect(problemsOf(input)).toContain(
      'externalServices[0].node: "dev1004" is a lab node with an agent; an external service needs a node of its own',
    );
  });
});

describe("deploy order", () => {
  it("deploys the cluster before the Consul stack", () => {
    const run = sharedDefaultRun();
    const manifest = JSON.parse(run.files["manifest.json"]);
    expect(manifest.stacks.cluster.dependencies).toEqual([]);
    expect(manifest.stacks.consul.dependencies).toEqual(["cluster"]);
  });

  it("makes every client agent wait to be healthy (leader elected), and no server", () => {
    const { cluster } = consulStackOf();
    const containers = Object.values(JSON.parse(Testing.synth(cluster)).resource.docker_container) as any[];
    const agents = containers.filter((container) => container.healthcheck);
    expect(agents).toHaveLength(6);
    const waits = Object.fromEntries(agents.map((agent) => [agent.name, agent.wait]));
    expect(waits).toEqual({
      "consul-lab-dev1001": false,
      "consul-lab-dev1002": false,
      "consul-lab-dev1003": false,
      "consul-lab-dev1004": true,
      "consul-lab-dev1005": true,
      "consul-lab-dev1006": true,
    });
  });
});
