/**
 * The listener table (topology/listeners.ts) against what the programs are told: every synthesized node's agent.json
 * read as Consul 1.20 reads it (client_addr, addresses.*, ports.* with its defaults), its nginx `listen` lines and its
 * dnsmasq config give exactly the table's sockets; every published port reaches one of them where its traffic
 * arrives; and validation refuses two listeners on one port of a pod.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { parse as parseYaml } from "yaml";
import {
  ANY_ADDRESS,
  bindsArrival,
  CONSUL_DEFAULT_PORTS,
  type Listener,
  parseTopology,
  podListeners,
  publishedArrivalAddress,
  publishedPorts,
  type Topology,
} from "../topology";
import { articleInput, problemsOf } from "./tools/helpers";
import { PROJECT_ROOT, runApp, sharedDefaultRun } from "./tools/synth";

/** A socket as the kernel sees it: what two processes cannot both bind. */
type Socket = string;
const socketsOf = (listener: Pick<Listener, "port" | "protocols" | "addresses">): Socket[] =>
  listener.protocols.flatMap((protocol) =>
    listener.addresses.map((address) => `${protocol} ${address}:${listener.port}`),
  );

/**
 * What Consul 1.20 binds for an agent.json: `client_addr` (space-separated) for HTTP, HTTPS, DNS and gRPC TLS unless
 * `addresses.<listener>` says otherwise; `bind_addr` for server RPC and gossip; `ports.*` with the defaults of
 * agent/config/default.go (http 8500, dns 8600, https and grpc -1, serf_lan 8301, serf_wan 8302, server 8300) and
 * builder.go (grpc_tls 8503 on a server when unset); a port <= 0 is off (builder.go's portVal).
 */
function consulSockets(config: any): Socket[] {
  const known = new Set(["http", "https", "dns", "grpc", "grpc_tls", "serf_lan", "serf_wan", "server"]);
  for (const key of Object.keys(config.ports ?? {}))
    if (!known.has(key)) throw new Error(`the test does not model ports.${key}`);
  const port = (name: string, fallback: number) => {
    const value = config.ports?.[name] ?? fallback;
    return value > 0 ? value : undefined;
  };
  const client = String(config.client_addr ?? "127.0.0.1").split(" ");
  const at = (name: string) => (config.addresses?.[name] ? String(config.addresses[name]).split(" ") : client);
  const bind = [config.bind_addr ?? ANY_ADDRESS];
  const listeners: { port?: number; protocols: ("tcp" | "udp")[]; addresses: string[] }[] = [
    { port: port("http", 8500), protocols: ["tcp"], addresses: at("http") },
    { port: port("https", -1), protocols: ["tcp"], addresses: at("https") },
    { port: port("dns", 8600), protocols: ["tcp", "udp"], addresses: at("dns") },
    { port: port("grpc", -1), protocols: ["tcp"], addresses: at("grpc") },
    {
      port: port("grpc_tls", config.server ? CONSUL_DEFAULT_PORTS.grpc_tls_server : -1),
      protocols: ["tcp"],
      addresses: at("grpc_tls"),
    },
    { port: port("serf_lan", 8301), protocols: ["tcp", "udp"], addresses: bind },
    ...(config.server
      ? [
          { port: port("serf_wan", 8302), protocols: ["tcp" as const, "udp" as const], addresses: bind },
          { port: port("server", 8300), protocols: ["tcp" as const], addresses: bind },
        ]
      : []),
  ];
  return listeners.flatMap((listener) => (listener.port ? socketsOf({ ...listener, port: listener.port }) : []));
}

/** What a node's nginx binds: every `listen` line of its configs and templates (`listen <port>` is every address). */
function nginxSockets(files: Record<string, string>): Socket[] {
  const sockets = new Set<Socket>();
  for (const [file, text] of Object.entries(files)) {
    if (!/\/etc\/nginx\/|\/etc\/consul-template\/templates\//.test(file)) continue;
    for (const [, spec] of text.matchAll(/^\s*listen\s+([^;\s]+)[^;]*;/gm)) {
      if (!/^\d+$/.test(spec)) throw new Error(`${file}: the test does not model "listen ${spec}"`);
      sockets.add(`tcp ${ANY_ADDRESS}:${spec}`);
    }
  }
  return [...sockets];
}

/** What dnsmasq binds with `listen-address`, `bind-interfaces` and `port`. */
function dnsmasqSockets(text: string): Socket[] {
  if (!/^bind-interfaces$/m.test(text)) throw new Error("the test models dnsmasq with bind-interfaces only");
  const addresses = [...text.matchAll(/^listen-address=(.+)$/gm)].map((match) => match[1]);
  const port = Number(/^port=(\d+)$/m.exec(text)?.[1] ?? 53);
  return socketsOf({ port, protocols: ["tcp", "udp"], addresses });
}

function renderedFilesOf(outdir: string, node: string): Record<string, string> {
  const root = join(outdir, "rendered", node);
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[path.slice(root.length)] = readFileSync(path, "utf8");
    }
  };
  walk(root);
  return files;
}

const sorted = (sockets: Socket[]) => [...new Set(sockets)].sort();

function expectTableMatchesRendered(outdir: string, topology: Topology): void {
  for (const node of topology.nodes) {
    const files = renderedFilesOf(outdir, node.name);
    const rendered = [
      ...consulSockets(JSON.parse(files["/consul/config/agent.json"])),
      ...dnsmasqSockets(files["/etc/dnsmasq.d/consul-lab.conf"]),
      ...nginxSockets(files),
    ];
    expect({ node: node.name, sockets: sorted(rendered) }).toEqual({
      node: node.name,
      sockets: sorted(podListeners(topology, node.name).flatMap(socketsOf)),
    });
  }
}

/** The topology a synth used, validated as the app validated it. */
function synthOf(input: unknown): { outdir: string; topology: Topology } {
  const file = join(mkdtempSync(join(tmpdir(), "consul-lab-listeners-")), "topology.json");
  writeFileSync(file, JSON.stringify(input));
  const run = runApp({ CONSUL_LAB_TOPOLOGY: file });
  if (run.status !== 0) throw new Error(run.stderr);
  return { outdir: run.outdir, topology: parseTopology(input) };
}

describe("the listener table", () => {
  it("is what the default lab's rendered configs bind, node by node", () => {
    const run = sharedDefaultRun();
    const topology = parseTopology(articleInput());
    expect(existsSync(join(run.outdir, "rendered"))).toBe(true);
    expectTableMatchesRendered(run.outdir, topology);
  });

  it("is what an open lab's and a lab over several hosts' rendered configs bind", () => {
    const open = { ...articleInput(), security: "none" };
    const threeHosts = parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "three-hosts.yaml"), "utf8"));
    for (const input of [open, threeHosts]) {
      const { outdir, topology } = synthOf(input);
      expectTableMatchesRendered(outdir, topology);
    }
  });

  it.each([
    ["one host (a bridge network)", articleInput()],
    ["several hosts (an overlay)", parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "three-hosts.yaml"), "utf8"))],
  ])("publishes every port to a listener bound where its traffic arrives: %s", (_shape, input) => {
    const topology = parseTopology(input);
    let count = 0;
    for (const node of topology.nodes) {
      const arrival = publishedArrivalAddress(topology, node);
      for (const published of publishedPorts(topology, node.name)) {
        count++;
        const reached = podListeners(topology, node.name).filter(
          (listener) =>
            listener.port === published.containerPort &&
            listener.protocols.includes(published.protocol) &&
            bindsArrival(listener, arrival),
        );
        expect({ published, reached: reached.map((listener) => listener.what) }).toEqual({
          published,
          reached: [published.reaches],
        });
      }
    }
    // API over TCP, DNS over TCP and UDP, and the entry.
    expect(count).toBe(4);
  });

  it("binds Consul's published listeners on every address of an overlay node, where docker_gwbridge's address is", () => {
    const topology = parseTopology(parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "three-hosts.yaml"), "utf8")));
    const publisher = topology.publish.node ?? topology.nodes.find((node) => node.role === "server")!.name;
    const https = podListeners(topology, publisher).find((listener) => listener.field === "consul.ports.https")!;
    expect(https.addresses).toEqual([ANY_ADDRESS]);
  });
});

describe("validation over the listener table", () => {
  it.each([
    ["dns", 53, "the node's DNS forwarder (dnsmasq)"],
    ["http", 53, "the node's DNS forwarder (dnsmasq)"],
  ])("refuses consul.ports.%s: %p, which %s binds in every pod", (field, port, owner) => {
    const input = articleInput();
    input.consul = { ports: { [field]: port } };
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^consul\\.ports\\.${field}: ${port} collides in every node's pod with ${owner.replace(/[()]/g, "\\$&")}`,
        ),
      ),
    );
  });

  it("refuses a workload on 8503, a server's default gRPC TLS port, on a server only", () => {
    const input = articleInput();
    input.services.push({ name: "metrics", port: 8503, nodes: ["dev1001", "dev1004"] });
    const collisions = problemsOf(input).filter((problem) => problem.includes("collides"));
    expect(collisions).toEqual([
      expect.stringMatching(/^services\[4\]\.port: 8503 collides in the pod of dev1001 with Consul's gRPC TLS/),
    ]);
  });

  it("lets a client run a workload on the HTTPS port, which only servers bind", () => {
    const input = articleInput();
    input.services.push({ name: "metrics", port: 8501, nodes: ["dev1004"] });
    expect(problemsOf(input)).toEqual([]);
  });
});
