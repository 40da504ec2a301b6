/**
 * The published ports on a real engine, for each network shape of the listener table (topology/listeners.ts): the
 * publish and entry nodes' namespace containers as synthesized (static address, published ports), and in each pod a
 * listener (listener/main.go, built at test time) that binds exactly the table's sockets for what those ports reach,
 * TCP and UDP. Each published
 * port must answer from the host with the listener it is for: on a bridge network, and on a Swarm overlay, where the
 * traffic arrives through docker_gwbridge at an address Docker picks (moby#33367).
 */
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { parseTopology, podListeners, type PublishedPort, publishedPorts, type Topology } from "../../topology";
import {
  asLabOverHosts,
  createNetwork,
  docker,
  dockerOk,
  goBinary,
  initSwarm,
  removeLab,
  runNamespace,
  synthesizedCluster,
  TEST_IMAGE,
  uniqueLab,
} from "./engine";

function tcpAnswer(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let text = "";
    socket.setTimeout(3000, () => socket.destroy(new Error("timeout")));
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => resolve(text.trim()));
    socket.on("error", (error) => resolve(`error: ${error.message}`));
  });
}

function udpAnswer(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      resolve("error: no answer");
    }, 3000);
    socket.on("message", (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message.toString().trim());
    });
    socket.send("ask\n", port, "127.0.0.1");
  });
}

/** The answer a listener gives: what it is, so the test sees which one a port reached. */
const tag = (what: string) => what.replace(/[^A-Za-z0-9]+/g, "_");

/** The listener's arguments: every socket of the listeners the node's published ports are for, as the table says. */
function listenerArgs(topology: Topology, node: string, published: readonly PublishedPort[]): string[] {
  const args: string[] = [];
  for (const listener of podListeners(topology, node)) {
    if (!published.some((port) => port.containerPort === listener.port)) continue;
    for (const address of listener.addresses)
      for (const protocol of listener.protocols)
        args.push(`${protocol}:${address}:${listener.port}:${tag(listener.what)}`);
  }
  return args;
}

/**
 * Runs the publish and entry nodes' namespaces of `topologyFile` as synthesized, with the listeners beside each, and
 * returns what each published port answers.
 */
async function answersThroughPublishedPorts(topologyFile: string, topology: Topology) {
  const listener = goBinary("listener");
  const cluster = synthesizedCluster(topologyFile);
  createNetwork(cluster);
  const answers: { field: string; protocol: string; expected: string; got: string }[] = [];
  for (const node of topology.nodes) {
    const published = publishedPorts(topology, node.name);
    if (published.length === 0) continue;
    const namespace = Object.values(cluster.container).find((resource: any) =>
      resource.name.endsWith(`-${node.name}-net`),
    )!;
    runNamespace(cluster, namespace);
    dockerOk([
      "run",
      "--detach",
      "--name",
      `${namespace.name}-listeners`,
      "--network",
      `container:${namespace.name}`,
      "--volume",
      `${listener}:/listener:ro`,
      "--entrypoint",
      "/listener",
      TEST_IMAGE,
      ...listenerArgs(topology, node.name, published),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const port of published) {
      const got = port.protocol === "tcp" ? await tcpAnswer(port.hostPort) : await udpAnswer(port.hostPort);
      answers.push({ field: port.field, protocol: port.protocol, expected: tag(port.reaches), got });
    }
  }
  return answers;
}

describe("published ports on a real engine reach the listener table's sockets", () => {
  it("on one host: a bridge network", async () => {
    const lab = await uniqueLab();
    try {
      const answers = await answersThroughPublishedPorts(lab.topologyFile, parseTopology(lab.input));
      expect(answers).toHaveLength(4);
      for (const answer of answers) expect(answer).toEqual({ ...answer, got: answer.expected });
    } finally {
      removeLab(lab.name);
    }
  });

  it("on several hosts: a Swarm overlay, where published traffic comes through docker_gwbridge", async () => {
    const lab = await uniqueLab();
    const input = asLabOverHosts(lab);
    await initSwarm();
    try {
      const answers = await answersThroughPublishedPorts(lab.topologyFile, parseTopology(input));
      expect(answers).toHaveLength(4);
      for (const answer of answers) expect(answer).toEqual({ ...answer, got: answer.expected });
    } finally {
      removeLab(lab.name);
      docker(["swarm", "leave", "--force"]);
    }
  });
});
