/**
 * Which Docker host runs which node, for a lab spread over several hosts (`hosts`). A node that names its `host` stays
 * there. The servers without one go to hosts that hold no server yet, in `hosts` order, so that losing one host loses
 * one vote; the other nodes go, in topology order, to the host with the fewest nodes so far (the first on a tie).
 */
import type { HostSpec, Topology } from "./schema";

export interface Placement {
  /** Each node's host name, by node name; empty for a lab on one host. */
  readonly hostOf: ReadonlyMap<string, string>;
  /** Servers the default spread could not give a host of their own: more servers than hosts free of one. */
  readonly serversWithoutOwnHost: readonly string[];
}

/** The host that creates the lab's overlay network: the first marked `manager`, else the first. */
export function managerHost(hosts: readonly HostSpec[]): HostSpec {
  return hosts.find((host) => host.manager) ?? hosts[0];
}

/** Places every node of a topology whose `hosts` and `nodes[].host` already name each other correctly. */
export function placeNodes(topology: Topology): Placement {
  const hosts = topology.hosts ?? [];
  const hostOf = new Map<string, string>();
  if (hosts.length === 0) return { hostOf, serversWithoutOwnHost: [] };
  const load = new Map(hosts.map((host) => [host.name, 0]));
  const place = (node: string, host: string) => {
    hostOf.set(node, host);
    load.set(host, (load.get(host) ?? 0) + 1);
  };
  for (const node of topology.nodes) if (node.host !== undefined) place(node.name, node.host);

  const holdsServer = new Set(topology.nodes.filter((node) => node.role === "server" && node.host).map((n) => n.host));
  const serversWithoutOwnHost: string[] = [];
  for (const server of topology.nodes.filter((node) => node.role === "server" && node.host === undefined)) {
    const free = hosts.find((host) => !holdsServer.has(host.name));
    if (!free) {
      serversWithoutOwnHost.push(server.name);
      continue;
    }
    holdsServer.add(free.name);
    place(server.name, free.name);
  }
  for (const node of topology.nodes) {
    if (hostOf.has(node.name) || node.role === "server") continue;
    const leastLoaded = hosts.reduce((best, host) => (load.get(host.name)! < load.get(best.name)! ? host : best));
    place(node.name, leastLoaded.name);
  }
  return { hostOf, serversWithoutOwnHost };
}
