/**
 * Every socket a node's pod binds, which host port reaches which of them, and where that traffic arrives: the one
 * place these facts live. The agent config's `client_addr` comes from here (renderers/consul-agent-config.ts), the
 * namespace's published ports too (constructs/node-namespace.ts), and validation refuses a topology in which two
 * processes of one pod bind one port, or a published port reaches no listener. A test reads the rendered configs back
 * (agent.json with Consul's defaults, nginx's `listen`, dnsmasq's) and compares them with this table.
 *
 * Works on a topology that is still being validated: it asks only for what the schema guarantees.
 */
import { instanceWorkload, NODE_DNS_PORT, NODE_LOOPBACK, publishNodeName, serviceInstances } from "./model";
import type { NodeSpec, Topology } from "./schema";

/** Every address of the pod: what `0.0.0.0` binds, and what nginx's `listen <port>` binds. */
export const ANY_ADDRESS = "0.0.0.0";

export type Protocol = "tcp" | "udp";

/** The process of a pod that binds a listener. */
export type PodProcess = "consul" | "dnsmasq" | "nginx";

export interface Listener {
  readonly process: PodProcess;
  /** What it is, as an error message names it: "Consul's DNS", "the node's DNS forwarder (dnsmasq)". */
  readonly what: string;
  /** The topology field that sets its port, or where the port comes from when the topology cannot set it. */
  readonly field: string;
  readonly port: number;
  readonly protocols: readonly Protocol[];
  /** The addresses it binds, ANY_ADDRESS for every one. */
  readonly addresses: readonly string[];
}

/** A host port the node's namespace publishes, and the listener in the pod it is for. */
export interface PublishedPort {
  /** The topology field of the host port. */
  readonly field: "publish.httpPort" | "publish.dnsPort" | "publish.entryPort";
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** The listener it must reach (its `what`). */
  readonly reaches: string;
}

/**
 * How a node's namespace is attached, as far as published ports care:
 * - `bridge`: one host, a user-defined bridge network. Docker maps a published port to the container's address on
 *   that network (the node's static address).
 * - `overlay`: several hosts, an attachable Swarm overlay. An overlay cannot carry published ports, so moby gives the
 *   container a second endpoint on `docker_gwbridge`, at an address it picks at start, and maps the published ports
 *   there (libnetwork's default-gateway endpoint, moby#33367; seen on a real engine here: a listener on the overlay
 *   address is reset, one on every address answers). Only a listener on every address is reached.
 */
export type NetworkShape = "bridge" | "overlay";

export function networkShapeOf(topology: Topology): NetworkShape {
  return (topology.hosts ?? []).length > 0 ? "overlay" : "bridge";
}

/**
 * Where the traffic of a published port arrives inside the node's namespace: the node's address on a bridge, or an
 * address known only at start (undefined) on an overlay.
 */
export function publishedArrivalAddress(topology: Topology, node: NodeSpec): string | undefined {
  return networkShapeOf(topology) === "bridge" ? node.address : undefined;
}

/**
 * Consul's ports that the topology does not set, as Consul 1.20 takes them when the config does not name them
 * (agent/config/default.go: `server = 8300`, `serf_lan = 8301`, `serf_wan = 8302`, `grpc = -1`; agent/config/builder.go:
 * "default gRPC TLS port for servers is 8503"). The lab's agent.json names none of these.
 */
export const CONSUL_DEFAULT_PORTS = { server: 8300, serf_lan: 8301, serf_wan: 8302, grpc_tls_server: 8503 } as const;

/**
 * Consul's `client_addr`: the node's loopback, where its own containers and dnsmasq reach the API and DNS, and on the
 * publish node wherever the published ports arrive as well: its lab address on a bridge, every address on an overlay
 * (Consul cannot bind both 0.0.0.0 and 127.0.0.1 on one port, and every address includes loopback).
 */
export function consulClientAddresses(topology: Topology, nodeName: string): string[] {
  if (publishNodeName(topology) !== nodeName) return [NODE_LOOPBACK];
  const node = topology.nodes.find((candidate) => candidate.name === nodeName);
  const arrival = node && publishedArrivalAddress(topology, node);
  return arrival === undefined ? [ANY_ADDRESS] : [NODE_LOOPBACK, arrival];
}

const CONSUL_HTTP = "Consul's HTTP API";
const CONSUL_HTTPS = "Consul's HTTPS API";
const CONSUL_DNS = "Consul's DNS";

/** Every listener of a node's pod, Consul's defaults included. */
export function podListeners(topology: Topology, nodeName: string): Listener[] {
  const node = topology.nodes.find((candidate) => candidate.name === nodeName);
  if (!node) return [];
  const { ports } = topology.consul;
  const secure = topology.security === "secure";
  const isServer = node.role === "server";
  const client = consulClientAddresses(topology, nodeName);
  const bind = [node.address];
  const listeners: Listener[] = [
    // In "secure" mode plain HTTP stays on the node's loopback (`addresses.http`).
    {
      process: "consul",
      what: CONSUL_HTTP,
      field: "consul.ports.http",
      port: ports.http,
      protocols: ["tcp"],
      addresses: secure ? [NODE_LOOPBACK] : client,
    },
    {
      process: "consul",
      what: CONSUL_DNS,
      field: "consul.ports.dns",
      port: ports.dns,
      protocols: ["tcp", "udp"],
      addresses: client,
    },
    {
      process: "consul",
      what: "Consul's LAN gossip",
      field: "Consul's serf_lan (8301)",
      port: CONSUL_DEFAULT_PORTS.serf_lan,
      protocols: ["tcp", "udp"],
      addresses: bind,
    },
    {
      process: "dnsmasq",
      what: "the node's DNS forwarder (dnsmasq)",
      field: "the node's resolver (53)",
      port: NODE_DNS_PORT,
      protocols: ["tcp", "udp"],
      addresses: [NODE_LOOPBACK],
    },
  ];
  if (isServer && secure) {
    listeners.push({
      process: "consul",
      what: CONSUL_HTTPS,
      field: "consul.ports.https",
      port: ports.https,
      protocols: ["tcp"],
      addresses: client,
    });
  }
  if (isServer) {
    listeners.push(
      {
        process: "consul",
        what: "Consul's server RPC",
        field: "Consul's server port (8300)",
        port: CONSUL_DEFAULT_PORTS.server,
        protocols: ["tcp"],
        addresses: bind,
      },
      {
        process: "consul",
        what: "Consul's WAN gossip",
        field: "Consul's serf_wan (8302)",
        port: CONSUL_DEFAULT_PORTS.serf_wan,
        protocols: ["tcp", "udp"],
        addresses: bind,
      },
      {
        process: "consul",
        what: "Consul's gRPC TLS (a server's default)",
        field: "Consul's grpc_tls (8503 on servers)",
        port: CONSUL_DEFAULT_PORTS.grpc_tls_server,
        protocols: ["tcp"],
        addresses: client,
      },
    );
  }
  // The node's nginx (an app, sorry, load balancer, entry or placeholder page) listens on each port its services
  // register, on every address (`listen <port>`).
  const seen = new Set<number>();
  for (const instance of serviceInstances(topology)) {
    if (instance.node !== nodeName || seen.has(instance.service.port)) continue;
    seen.add(instance.service.port);
    const role = instanceWorkload(topology.site, instance.service);
    listeners.push({
      process: "nginx",
      what: `the node's nginx for "${instance.service.name}"${role ? ` (${role})` : ""}`,
      field: `services[${instance.serviceIndex}].port`,
      port: instance.service.port,
      protocols: ["tcp"],
      addresses: [ANY_ADDRESS],
    });
  }
  return listeners;
}

/**
 * The host ports a node's namespace publishes, on `publish.address` only: Consul's API (HTTPS in "secure" mode, a
 * server's listener) and DNS on the publish node, the site's entry on the entry node.
 */
export function publishedPorts(topology: Topology, nodeName: string): PublishedPort[] {
  const { publish, consul, site } = topology;
  const published: PublishedPort[] = [];
  const at = { hostAddress: publish.address };
  if (publishNodeName(topology) === nodeName) {
    const secure = topology.security === "secure";
    published.push({
      ...at,
      field: "publish.httpPort",
      hostPort: publish.httpPort,
      containerPort: secure ? consul.ports.https : consul.ports.http,
      protocol: "tcp",
      reaches: secure ? CONSUL_HTTPS : CONSUL_HTTP,
    });
    for (const protocol of ["tcp", "udp"] as const)
      published.push({
        ...at,
        field: "publish.dnsPort",
        hostPort: publish.dnsPort,
        containerPort: consul.ports.dns,
        protocol,
        reaches: CONSUL_DNS,
      });
  }
  const entry = serviceInstances(topology).find(
    (instance) => instance.node === nodeName && instanceWorkload(site, instance.service) === "entry",
  );
  if (entry) {
    published.push({
      ...at,
      field: "publish.entryPort",
      hostPort: publish.entryPort,
      containerPort: entry.service.port,
      protocol: "tcp",
      reaches: `the node's nginx for "${entry.service.name}" (entry)`,
    });
  }
  return published;
}

/** Whether a listener's addresses take traffic that arrives at `address` (undefined: an address picked at start). */
export function bindsArrival(listener: Listener, address: string | undefined): boolean {
  return listener.addresses.includes(ANY_ADDRESS) || (address !== undefined && listener.addresses.includes(address));
}

/** Whether two listeners would take the same socket: one port, a protocol in common, an address in common. */
export function listenersCollide(a: Listener, b: Listener): boolean {
  if (a.port !== b.port || !a.protocols.some((protocol) => b.protocols.includes(protocol))) return false;
  const any = (listener: Listener) => listener.addresses.includes(ANY_ADDRESS);
  return any(a) || any(b) || a.addresses.some((address) => b.addresses.includes(address));
}

/**
 * Every host port a lab publishes: the publish node's API and DNS, then the entry. The namespace construct, the ssh
 * forwards and the doctor all take them from here. (A lab's shape, not the Lab class, which imports this file.)
 */
export function labPublishedPorts(lab: {
  readonly topology: Topology;
  readonly publishNode: NodeSpec;
  readonly nodes: readonly NodeSpec[];
}): PublishedPort[] {
  const ordered = [lab.publishNode, ...lab.nodes.filter((node) => node !== lab.publishNode)];
  return ordered.flatMap((node) => publishedPorts(lab.topology, node.name));
}
