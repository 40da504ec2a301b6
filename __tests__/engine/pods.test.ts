/**
 * The pod pattern on a real engine, with every container's settings taken from the synthesized cluster stack: what a
 * restart of each kind does to a node, and that `npm run repair` makes it whole. These are the facts the fake docker
 * (tools/fakes/fake-docker.mjs) and runtime/node-pods.ts are built on.
 */
import { assessPods, InspectedContainer } from "../../runtime/node-pods";
import { renderNodeResolver } from "../../renderers";
import { labOf } from "../tools/helpers";
import {
  addressesIn,
  deployContainers,
  docker,
  dockerOk,
  inspect,
  labCli,
  networkNamespaceOf,
  removeLab,
  restartEngine,
  synthesizedCluster,
  uniqueLab,
} from "./engine";

let lab: Awaited<ReturnType<typeof uniqueLab>>;

beforeAll(async () => {
  lab = await uniqueLab();
  deployContainers(synthesizedCluster(lab.topologyFile));
});

afterAll(() => removeLab(lab.name));

const nodeAddress = (node: string): string =>
  lab.input.nodes.find((candidate: { name: string }) => candidate.name === node)!.address;
const container = (node: string, role?: string) => `${lab.name}-${node}${role ? `-${role}` : ""}`;

function podsOnEngine() {
  const ids = dockerOk(["ps", "--all", "--quiet", "--filter", `label=consul-lab.lab=${lab.name}`])
    .split("\n")
    .filter(Boolean);
  return assessPods(JSON.parse(dockerOk(["inspect", ...ids])) as InspectedContainer[]);
}

/** Whether every container of a node is in its namespace container's network namespace, as the kernel says. */
function inOneNamespace(node: string): boolean {
  const namespace = networkNamespaceOf(container(node, "net"));
  const joined = [container(node), container(node, "dns")].map(networkNamespaceOf);
  return namespace !== "" && joined.every((other) => other === namespace);
}

describe("a node's containers on a real engine, as synthesized", () => {
  it("share the namespace's address and hostname", () => {
    expect(addressesIn(container("dev1004"))).toContain(nodeAddress("dev1004"));
    expect(addressesIn(container("dev1004", "app"))).toContain(nodeAddress("dev1004"));
    expect(dockerOk(["exec", container("dev1004", "dns"), "hostname"]).trim()).toBe("dev1004");
  });

  it("see the resolver node-resolver.ts renders, through Docker's embedded DNS", () => {
    const resolver = renderNodeResolver(labOf(lab.input));
    const resolvConf = dockerOk(["exec", container("dev1004"), "cat", "/etc/resolv.conf"]);
    const lines = resolvConf.split("\n").filter((line) => line && !line.startsWith("#"));
    // The embedded DNS on 127.0.0.11 forwards to the node's own dnsmasq (`dns`), which Docker does not list here.
    expect(lines).toEqual([
      "search " + resolver.search.join(" "),
      "nameserver 127.0.0.11",
      "options " + resolver.options.join(" "),
    ]);
  });

  it("publish only on 127.0.0.1, the publish node's ports", () => {
    const bindings = inspect(container("dev1001", "net")).HostConfig.PortBindings;
    const hostIps = Object.values<{ HostIp: string }[]>(bindings)
      .flat()
      .map((binding) => binding.HostIp);
    expect(hostIps.length).toBeGreaterThan(0);
    expect(new Set(hostIps)).toEqual(new Set(["127.0.0.1"]));
  });

  it("keeps the sidecars on the node's address when the agent restarts", () => {
    dockerOk(["restart", "--time", "1", container("dev1005")]);
    expect(addressesIn(container("dev1005"))).toContain(nodeAddress("dev1005"));
    expect(inOneNamespace("dev1005")).toBe(true);
    expect(
      podsOnEngine()
        .find((pod) => pod.node === "dev1005")!
        .joined.every((c) => c.state === "whole"),
    ).toBe(true);
  });

  it("strands the agent and sidecars when the namespace restarts, and npm run repair makes the node whole", () => {
    dockerOk(["restart", "--time", "1", container("dev1004", "net")]);
    // Only lo is left: the engine joined them to a namespace that no longer exists.
    expect(addressesIn(container("dev1004"))).toEqual(["127.0.0.1"]);
    expect(inOneNamespace("dev1004")).toBe(false);
    const stranded = podsOnEngine().find((pod) => pod.node === "dev1004")!;
    expect(stranded.joined.map((c) => c.state)).toEqual(stranded.joined.map(() => "stranded"));

    const repair = labCli(["repair"], lab.topologyFile);
    expect(repair.stdout).toContain(`restarted ${container("dev1004")} into its node's namespace`);
    expect(repair.status).toBe(0);
    expect(addressesIn(container("dev1004"))).toContain(nodeAddress("dev1004"));
    expect(inOneNamespace("dev1004")).toBe(true);
  });

  it("refuses to start a joined container while its namespace is stopped, as the fake docker does", () => {
    dockerOk(["stop", "--time", "1", container("dev1006", "net"), container("dev1006", "dns")]);
    const start = docker(["start", container("dev1006", "dns")]);
    expect(start.status).not.toBe(0);
    expect(start.stderr).toMatch(/cannot join network of a non running container|is not running/);
    expect(labCli(["repair"], lab.topologyFile).status).toBe(0);
    expect(inOneNamespace("dev1006")).toBe(true);
  });

  it("comes back whole after a daemon restart once npm run repair has run, whatever the engine restored", () => {
    restartEngine();
    const seen = podsOnEngine().map(
      (pod) => `${pod.node}: ${pod.namespaceRunning ? "up" : "down"} ${pod.joined.map((c) => c.state).join(",")}`,
    );
    // What this engine did on its own, for the record (20.10 here; Engine 29 orders container: dependencies).
    console.log(`after a daemon restart, before repair:\n  ${seen.join("\n  ")}`);
    const repair = labCli(["repair"], lab.topologyFile);
    expect(repair.status).toBe(0);
    for (const node of ["dev1001", "dev1002", "dev1003", "dev1004", "dev1005", "dev1006"]) {
      expect({ node, whole: inOneNamespace(node) }).toEqual({ node, whole: true });
      expect(addressesIn(container(node))).toContain(nodeAddress(node));
    }
  });
});
