/**
 * What a real `terraform apply` of the cluster stack needs from the synthesized JSON, checked over the whole output
 * of several topologies, so a new instance of a known class of deploy bug fails here instead of on a Docker host.
 */
import { Testing } from "cdktf";
import { join } from "node:path";
import { generatedTopology } from "./tools/generated-topology";
import { renderNodeResolver } from "../renderers";
import { ClusterStack, ConsulStack } from "../stacks";
import { Lab } from "../topology";
import { articleInput, labOf, exampleLab } from "./tools/helpers";
import {
  declaredIn,
  expressionsIn,
  labelOf,
  referencesIn,
  resourceGraph,
  stringsIn,
  transitiveDependencies,
} from "./tools/terraform-json";

const LABS: Record<string, Lab> = {
  "the article's lab": labOf(),
  "examples/shop-lab.yaml": exampleLab("shop-lab.yaml"),
  "examples/three-hosts.yaml": exampleLab("three-hosts.yaml"),
  "a generated 60-node lab": labOf(generatedTopology(60)),
  'the article\'s lab with security "none"': labOf({ ...articleInput(), security: "none" }),
};

function synthesized(lab: Lab) {
  const app = Testing.app();
  const cluster = new ClusterStack(app, "cluster", { lab });
  const consul = new ConsulStack(app, "consul", { lab, cluster });
  return { cluster: JSON.parse(Testing.synth(cluster)), consul: JSON.parse(Testing.synth(consul)) };
}

const STACKS = Object.entries(LABS).map(([name, lab]) => ({ name, lab, ...synthesized(lab) }));

/**
 * Attributes the Docker provider computes or rewrites after create, so an index into them names whatever the
 * provider put there, not what the topology declared: `ports` is re-sorted by internal port
 * (flattenContainerPorts), `network_data` and `networks_advanced` follow Docker's order. Indexing any list attribute of
 * a resource is refused unless it is listed here with the reason it is safe.
 */
const SAFE_INDEXED_REFERENCES: readonly { pattern: RegExp; reason: string }[] = [];

describe.each(STACKS)("the synthesized stacks of $name", ({ lab, cluster, consul }) => {
  it("never index into a list attribute of a resource (the provider may re-order it)", () => {
    const indexed = [cluster, consul].flatMap((stack) =>
      expressionsIn(stack.resource ?? {})
        .concat(expressionsIn(stack.provider ?? {}), expressionsIn(stack.output ?? {}))
        .filter((expression) => /\b[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+\.[a-z_]+\[\d+\]/.test(expression))
        .filter((expression) => !SAFE_INDEXED_REFERENCES.some((safe) => safe.pattern.test(expression))),
    );
    expect(expressionsIn(cluster.resource).length).toBeGreaterThan(0);
    expect(indexed).toEqual([]);
  });

  it("give the Consul provider the published address as a literal, with the cluster as an explicit dependency", () => {
    expect(consul.provider.consul[0].address).toBe(lab.publishedHttpAddress);
    expect(consul.data?.terraform_remote_state).toBeUndefined();
  });

  it("reference nothing of the other stack, so neither needs cdktf's cross-stack references", () => {
    for (const [stack, other] of [
      [cluster, consul],
      [consul, cluster],
    ]) {
      const own = declaredIn(stack);
      const others = declaredIn(other);
      const references = referencesIn(stack);
      // The other stack's resources and data sources, in any expression or dependency list.
      expect(references.filter((reference) => others.has(reference) && !own.has(reference))).toEqual([]);
      // Variables, locals and data sources are the stack's own. (A variable both stacks declare, like role_tokens,
      // is each stack's own: both are given the same TF_VAR_ value.)
      expect(references.filter((reference) => /^(var|local|data)\./.test(reference) && !own.has(reference))).toEqual(
        [],
      );
    }
    expect(referencesIn(cluster).filter((reference) => reference.startsWith("docker_")).length).toBeGreaterThan(0);
  });

  it("start every resource that waits for a leader only after every server's agent exists, and no server waits", () => {
    const graph = resourceGraph(cluster);
    const agents = [...graph.values()].filter(
      (node) => node.type === "docker_container" && labelOf(node.body, "consul-lab.role") === "agent",
    );
    const serverAgents = agents.filter((node) => lab.node(labelOf(node.body, "consul-lab.node")!).role === "server");
    expect(serverAgents.map((node) => node.body.name).sort()).toEqual(
      lab.servers.map((server) => lab.dockerName(server.name)).sort(),
    );
    // What waits: a container with `wait`, or a deploy-time script that waits for the cluster.
    const waiters = [...graph.values()].filter(
      (node) =>
        node.body.wait === true ||
        (node.type === "terraform_data" &&
          /wait-for-leader|acl-bootstrap/.test(JSON.stringify(node.body.provisioner ?? ""))),
    );
    expect(waiters.length).toBeGreaterThan(lab.nodes.length - lab.servers.length);
    for (const waiter of waiters) {
      const before = transitiveDependencies(graph, waiter.address);
      const missing = serverAgents.filter((server) => !before.has(server.address)).map((server) => server.body.name);
      expect({ waiter: waiter.address, missing }).toEqual({ waiter: waiter.address, missing: [] });
    }
    for (const server of serverAgents) expect(server.body.wait).toBe(false);
  });

  it("the leader gate asks the published API, so the publish node's agent starts before it", () => {
    const graph = resourceGraph(cluster);
    const gate = [...graph.values()].find((node) =>
      JSON.stringify(node.body.provisioner ?? "").includes("wait-for-leader"),
    )!;
    const publishAgent = [...graph.values()].find((node) => node.body.name === lab.dockerName(lab.publishNode.name))!;
    expect(transitiveDependencies(graph, gate.address).has(publishAgent.address)).toBe(true);
    const environment = gate.body.provisioner[0]["local-exec"].environment;
    expect(environment.CONSUL_HTTP_ADDR).toBe(lab.publishedApiUrl);
    // HTTPS with the lab's CA, through the link synth writes beside the stack's JSON.
    expect(environment.NODE_EXTRA_CA_CERTS).toBe(lab.secure ? "lab-ca.pem" : undefined);
  });

  it("join every agent and sidecar to a namespace container that holds the node's network settings", () => {
    const containers = Object.values<any>(cluster.resource.docker_container);
    const joined = containers.filter((container) => String(container.network_mode).startsWith("container:"));
    const holders = containers.filter((container) => !String(container.network_mode).startsWith("container:"));
    expect(holders.map((holder) => labelOf(holder, "consul-lab.role"))).toEqual(lab.nodes.map(() => "netns"));
    const resolver = renderNodeResolver(lab);
    for (const holder of holders) {
      expect({ dns: holder.dns, dns_search: holder.dns_search, dns_opts: holder.dns_opts }).toEqual({
        dns: resolver.nameservers,
        dns_search: resolver.search,
        dns_opts: resolver.options,
      });
      // The provider defaults network_mode to "bridge"; said explicitly so the read-back always matches.
      expect(holder.network_mode).toBe("bridge");
      expect(holder.restart).toBe("unless-stopped");
      expect(holder.healthcheck).toBeUndefined();
      expect(holder.hostname).toBe(labelOf(holder, "consul-lab.node"));
    }
    expect(joined.length).toBeGreaterThanOrEqual(lab.nodes.length * 2);
    for (const container of joined) {
      // Docker refuses these with a joined namespace, or takes them from the namespace and the provider would read
      // back a value that differs from the configuration: a replacement on every plan.
      for (const field of ["hostname", "domainname", "dns", "dns_search", "dns_opts", "ports", "networks_advanced"])
        expect({ container: container.name, [field]: container[field] }).toEqual({ container: container.name });
      const node = labelOf(container, "consul-lab.node");
      const holder = Object.entries<any>(cluster.resource.docker_container).find(
        ([, body]) => labelOf(body, "consul-lab.role") === "netns" && labelOf(body, "consul-lab.node") === node,
      )!;
      expect(container.network_mode).toBe(`container:\${docker_container.${holder[0]}.id}`);
    }
  });

  it("keep every secret out of provisioners' configuration, so Terraform shows their output", () => {
    const provisioners = Object.values<any>(cluster.resource.terraform_data ?? {}).flatMap(
      (data) => data.provisioner ?? [],
    );
    expect(provisioners.length).toBeGreaterThan(0);
    for (const provisioner of provisioners) expect(expressionsIn(provisioner)).toEqual([]);
  });

  it("never let a refresh delete a container someone stopped (must_run)", () => {
    const containers = Object.values<any>(cluster.resource.docker_container);
    expect(containers.map((container) => container.must_run)).toEqual(containers.map(() => false));
  });

  it("start clients and consul-template only after their ACL tokens exist, in secure mode", () => {
    const graph = resourceGraph(cluster);
    const bootstrap = [...graph.values()].find((node) =>
      JSON.stringify(node.body.provisioner ?? "").includes("acl-bootstrap"),
    );
    if (lab.topology.security !== "secure") return expect(bootstrap).toBeUndefined();
    const needTokens = [...graph.values()].filter(
      (node) =>
        (labelOf(node.body, "consul-lab.role") === "agent" &&
          lab.node(labelOf(node.body, "consul-lab.node")!).role === "client" &&
          node.body.name !== lab.dockerName(lab.publishNode.name)) ||
        labelOf(node.body, "consul-lab.role") === "load-balancer",
    );
    expect(needTokens.length).toBeGreaterThan(0);
    for (const node of needTokens)
      expect({ [node.body.name]: transitiveDependencies(graph, node.address).has(bootstrap!.address) }).toEqual({
        [node.body.name]: true,
      });
  });

  it("hold no absolute path of this checkout, and reach the project's files from the stack directory", () => {
    const paths = stringsIn([cluster, consul])
      .map((entry) => entry.text)
      .filter((text) => text.includes("../"));
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(path).toMatch(/(^|\s)\.\.\/\.\.\/\.\.\/(state|scripts|assets)\//);
    expect(JSON.stringify([cluster, consul])).not.toContain(join(__dirname, ".."));
  });
});
