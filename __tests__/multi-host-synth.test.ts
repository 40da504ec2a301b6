/**
 * A lab over several Docker hosts (examples/three-hosts.yaml) as the cluster stack synthesizes it: one aliased Docker
 * provider per host and no default one, every Docker object of a node made through its host's provider, each host's
 * images on that host, and the network an attachable Swarm overlay made through the manager.
 */
import { Testing } from "cdktf";
import { ClusterStack } from "../stacks";
import { CLUSTER_SCOPE_IDS, hostScopeId } from "../topology";
import { labelOf } from "./tools/terraform-json";
import { articleInput, exampleLab, labOf } from "./tools/helpers";

const lab = exampleLab("three-hosts.yaml");
const synthesizedCluster = (from = lab) =>
  JSON.parse(Testing.synth(new ClusterStack(Testing.app(), "cluster", { lab: from })));
const cluster = synthesizedCluster();
/** Every resource of the stack as [type, key, body]. */
const resources = Object.entries<Record<string, any>>(cluster.resource).flatMap(([type, byKey]) =>
  Object.entries<any>(byKey).map(([key, body]) => [type, key, body] as const),
);

describe("a lab over several hosts, synthesized", () => {
  it("has one Docker provider per host, aliased by its name, with the host's endpoint or context, and no default one", () => {
    expect(cluster.provider.docker).toEqual([
      { alias: "lab-a", host: "ssh://ops@lab-a.example.test" },
      { alias: "lab-b", host: "ssh://ops@lab-b.example.test" },
      { alias: "lab-c", context: "lab-c" },
    ]);
  });

  it("makes every Docker object through an aliased provider, and nothing else through one", () => {
    const wrong = resources
      .filter(([type, , body]) => type.startsWith("docker_") !== /^docker\.lab-[abc]$/.test(body.provider ?? ""))
      .map(([type, key, body]) => `${type}.${key}: ${body.provider}`);
    expect(resources.filter(([type]) => type === "docker_container")).toHaveLength(24);
    expect(wrong).toEqual([]);
  });

  it("makes each node's containers and volume through its own host's provider", () => {
    const seen = resources
      .filter(([type]) => type === "docker_container" || type === "docker_volume")
      .map(([, , body]) => `${labelOf(body, "consul-lab.node")} ${body.provider}`);
    const expected = lab.nodes.map((node) => `${node.name} docker.${lab.hostOf(node.name)!.name}`);
    expect([...new Set(seen)].sort()).toEqual(expected.sort());
  });

  it("puts the three servers on three hosts", () => {
    const hosts = lab.servers.map((server) => cluster.output.nodes.value[server.name].host);
    expect(new Set(hosts).size).toBe(3);
  });

  it("makes the network a Swarm overlay that standalone containers attach to, through the manager", () => {
    const network = Object.values<any>(cluster.resource.docker_network);
    expect(network).toHaveLength(1);
    expect(network[0]).toMatchObject({
      driver: "overlay",
      attachable: true,
      // Swarm's own addresses (one per host) from the subnet's top quarter, where no node is.
      ipam_config: [{ subnet: "10.0.1.0/24", gateway: "10.0.1.254", ip_range: "10.0.1.192/26" }],
      provider: "docker.lab-a",
    });
  });

  it("has each container run an image made on its own host, and builds each image on the host that runs it", () => {
    const imageProvider = new Map(
      Object.entries<any>(cluster.resource.docker_image).map(([key, body]) => [key, body.provider]),
    );
    const mismatched = Object.values<any>(cluster.resource.docker_container)
      .map((body) => [body, /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(body.image)?.[1]] as const)
      .filter(([body, image]) => !image || imageProvider.get(image) !== body.provider)
      .map(([body]) => body.name);
    expect(mismatched).toEqual([]);
    // Each build runs against the host of the image that waits for it.
    const builds = Object.entries<any>(cluster.resource.docker_image)
      .filter(([, body]) => body.depends_on)
      .map(([, body]) => {
        const build = cluster.resource.terraform_data[/^terraform_data\.(.+)$/.exec(body.depends_on[0])![1]];
        const variables = JSON.parse(build.provisioner[0]["local-exec"].environment.CONSUL_LAB_IMAGE_DOCKER_VARIABLES);
        return `${body.provider} ${variables.DOCKER_HOST ?? `context ${variables.DOCKER_CONTEXT}`}`;
      });
    expect(builds.sort()).toEqual([
      "docker.lab-a ssh://ops@lab-a.example.test",
      "docker.lab-b ssh://ops@lab-b.example.test",
      "docker.lab-b ssh://ops@lab-b.example.test",
      "docker.lab-c context lab-c",
      "docker.lab-c context lab-c",
    ]);
  });

  it("pulls only the images a host's nodes run: no load balancer image where no load balancer runs", () => {
    const onLabA = Object.values<any>(cluster.resource.docker_image)
      .filter((body) => body.provider === "docker.lab-a")
      .map((body) => body.name.replace(/:.*/, ""));
    expect(onLabA.sort()).toEqual(["alpine", "consul-lab-dnsmasq", "hashicorp/consul", "nginx"]);
  });

  it("gives a tcp:// host's provider its TLS folder, and its build the TLS variables", () => {
    const input = {
      ...articleInput(),
      // The publish node (dev1001, the first server) on an ssh:// host, whose loopback ports can be forwarded.
      hosts: [
        { name: "b", endpoint: "ssh://b.example.test" },
        { name: "a", endpoint: "tcp://a.example.test:2376", certPath: "/etc/docker-tls/a" },
        { name: "c", endpoint: "ssh://c.example.test" },
      ],
    };
    const json = synthesizedCluster(labOf(input));
    expect(json.provider.docker[1]).toEqual({
      alias: "a",
      host: "tcp://a.example.test:2376",
      cert_path: "/etc/docker-tls/a",
    });
    const variables = Object.values<any>(json.resource.terraform_data)
      .filter((body) => body.provisioner?.[0]["local-exec"].environment?.CONSUL_LAB_IMAGE_DOCKER_VARIABLES)
      .map((body) => JSON.parse(body.provisioner[0]["local-exec"].environment.CONSUL_LAB_IMAGE_DOCKER_VARIABLES))
      .find((found) => found.DOCKER_HOST?.startsWith("tcp://"));
    expect(variables).toEqual({
      DOCKER_HOST: "tcp://a.example.test:2376",
      DOCKER_CERT_PATH: "/etc/docker-tls/a",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CONTEXT: null,
    });
  });

  it("warns when the topology puts servers together on one host", () => {
    const input = { ...articleInput(), hosts: [...(lab.topology.hosts as any[])] };
    input.nodes[0].host = "lab-b";
    input.nodes[1].host = "lab-b";
    const stack = new ClusterStack(Testing.app(), "cluster", { lab: labOf(input) });
    const warnings = stack.node.metadata.filter((entry) => entry.type === "@cdktf/warn").map((entry) => entry.data);
    expect(warnings).toContain(
      "host lab-b runs the servers dev1001, dev1002: losing that host loses all of their votes at once",
    );
  });
});

describe("where each object of a lab over several hosts lives in the construct tree", () => {
  it("puts a node's objects under its host, so a node moved to another host is replaced, not looked for there", () => {
    const keysOf = (json: any) => Object.keys(json.resource.docker_container).filter((key) => key.includes("dev1005"));
    const moved = structuredClone(lab.topology) as any;
    moved.nodes[4].host = "lab-c";
    const before = keysOf(cluster);
    const after = keysOf(synthesizedCluster(labOf(moved)));
    expect(before.every((key) => key.startsWith("cluster_host-lab-b_dev1005_"))).toBe(true);
    expect(after.every((key) => key.startsWith("cluster_host-lab-c_dev1005_"))).toBe(true);
    expect(before.length).toBe(4);
  });

  it("gives the cluster's own objects only the names validation keeps from nodes (CLUSTER_SCOPE_IDS)", () => {
    for (const from of [lab, labOf()]) {
      const stack = new ClusterStack(Testing.app(), "cluster", { lab: from });
      const nodeNames = new Set(from.nodes.map((node) => node.name));
      const reserved = new Set<string>(Object.values(CLUSTER_SCOPE_IDS));
      const scopes = [stack.cluster, ...from.hosts.map((host) => stack.cluster.node.findChild(hostScopeId(host.name)))];
      const unexpected = scopes.flatMap((scope) =>
        scope.node.children
          .map((child) => child.node.id)
          .filter(
            (id) =>
              !nodeNames.has(id) && !reserved.has(id) && !from.hosts.some((host) => hostScopeId(host.name) === id),
          ),
      );
      expect(unexpected).toEqual([]);
    }
  });
});

describe("a lab on one host", () => {
  it("keeps its one unaliased provider, a bridge network, and no provider on any resource", () => {
    const json = synthesizedCluster(labOf());
    expect(json.provider.docker).toEqual([{}]);
    expect(Object.values<any>(json.resource.docker_network)[0].driver).toBe("bridge");
    const withProvider = Object.values<Record<string, any>>(json.resource).flatMap((byKey) =>
      Object.values<any>(byKey).filter((body) => body.provider !== undefined),
    );
    expect(withProvider).toEqual([]);
  });
});
