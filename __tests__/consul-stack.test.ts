import { AutopilotConfig } from "@cdktf/provider-consul/lib/autopilot-config";
import { Keys } from "@cdktf/provider-consul/lib/keys";
import { Node } from "@cdktf/provider-consul/lib/node";
import { PreparedQuery } from "@cdktf/provider-consul/lib/prepared-query";
import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { Service } from "@cdktf/provider-consul/lib/service";
import { Testing } from "cdktf";
import { ClusterStack, ConsulStack } from "../stacks";
import { articleInput, labOf, problemsOf } from "./helpers";
import { runApp } from "./synth";

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

  it("owns its KV entries key by key, and never the maintenance flag", () => {
    expect(synthesized).toHaveResourceWithProperties(Keys, {
      key: [{ path: "web/test.hoge.dev.jp/description", value: expect.any(String) }],
    });
    expect(json.resource.consul_key_prefix).toBeUndefined();
    expect(synthesized).not.toContain("maintenance/key");
  });

  it("talks to the address the cluster stack published, through its state", () => {
    // Cross-stack references are wired by the app's synth, so this reads what `cdktf synth` writes.
    const written = runApp().files;
    const json = JSON.parse(written["stacks/consul/cdk.tf.json"]);
    const cluster = JSON.parse(written["stacks/cluster/cdk.tf.json"]);
    expect(JSON.stringify(json)).toHaveProviderWithProperties(ConsulProvider, {
      address:
        "${data.terraform_remote_state.cross-stack-reference-input-cluster.outputs.cross-stack-output-docker_containercluster_dev1001_agent_container_9855A74Cports0ip}:${data.terraform_remote_state.cross-stack-reference-input-cluster.outputs.cross-stack-output-docker_containercluster_dev1001_agent_container_9855A74Cports0external}",
      scheme: "http",
    });
    expect(json.data.terraform_remote_state["cross-stack-reference-input-cluster"]).toEqual({
      backend: "local",
      config: { path: "../../../state/cluster.tfstate" },
      workspace: "${terraform.workspace}",
    });
    expect(
      cluster.output["cross-stack-output-docker_containercluster_dev1001_agent_container_9855A74Cports0ip"],
    ).toEqual({
      sensitive: true,
      value: "${docker_container.cluster_dev1001_agent_container_9855A74C.ports[0].ip}",
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
    const run = runApp();
    const manifest = JSON.parse(run.files["manifest.json"]);
    expect(manifest.stacks.cluster.dependencies).toEqual([]);
    expect(manifest.stacks.consul.dependencies).toEqual(["cluster"]);
  });

  it("waits for each agent to be healthy (leader elected) before the stack that needs it", () => {
    const { cluster } = consulStackOf();
    const containers = Object.values(JSON.parse(Testing.synth(cluster)).resource.docker_container) as any[];
    const agents = containers.filter((container) => container.healthcheck);
    expect(agents).toHaveLength(6);
    for (const agent of agents) expect(agent).toMatchObject({ wait: true, wait_timeout: 180 });
  });
});
