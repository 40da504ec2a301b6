/**
 * The listener table's rules (topology/listeners.ts): no two processes of one pod bind one socket, and every published
 * port reaches a listener at the address its traffic arrives at.
 */
import {
  bindsArrival,
  type Listener,
  listenersCollide,
  podListeners,
  publishedArrivalAddress,
  publishedPorts,
} from "./listeners";
import type { Report } from "./problems";
import type { Topology } from "./schema";

/** Whether the topology sets a listener's port (its field is a path), rather than Consul or the lab. */
const settable = (listener: Listener) => /^(consul\.|services\[)/.test(listener.field);

const describe = (listener: Listener) =>
  `${listener.what} (${listener.protocols.join(", ")} on ${listener.addresses.join(", ")})`;

/**
 * Reports each collision once, on the field to change, with the nodes where it happens; a field that already has a
 * problem (`reported`) is left to that message.
 */
export function checkPodListeners(topology: Topology, reported: ReadonlySet<string>, report: Report): void {
  const collisions = new Map<
    string,
    { path: string; port: number; mine: Listener; other: Listener; nodes: string[] }
  >();
  for (const node of topology.nodes) {
    const listeners = podListeners(topology, node.name);
    listeners.forEach((listener, index) => {
      for (const earlier of listeners.slice(0, index)) {
        if (!listenersCollide(listener, earlier)) continue;
        const [mine, other] = settable(listener) || !settable(earlier) ? [listener, earlier] : [earlier, listener];
        if (!settable(mine) || reported.has(mine.field)) continue;
        const key = `${mine.field}\u0000${other.what}`;
        const entry = collisions.get(key) ?? { path: mine.field, port: mine.port, mine, other, nodes: [] };
        entry.nodes.push(node.name);
        collisions.set(key, entry);
      }
    });
  }
  for (const { path, port, mine, other, nodes } of collisions.values()) {
    const where = nodes.length === topology.nodes.length ? "every node's pod" : `the pod of ${nodes.join(", ")}`;
    report(
      path,
      `${port} collides in ${where} with ${describe(other)}: ${describe(mine)} would bind the same port, and two processes of a pod cannot; choose another`,
    );
  }
  checkPublishedPortsReachListeners(topology, reported, report);
}

function checkPublishedPortsReachListeners(topology: Topology, reported: ReadonlySet<string>, report: Report): void {
  // A publish node that cannot publish (a client in "secure" mode) has its own message there.
  if (reported.has("publish.node")) return;
  for (const node of topology.nodes) {
    const arrival = publishedArrivalAddress(topology, node);
    const listeners = podListeners(topology, node.name);
    for (const published of publishedPorts(topology, node.name)) {
      if (reported.has(published.field)) continue;
      const candidates = listeners.filter(
        (listener) => listener.port === published.containerPort && listener.protocols.includes(published.protocol),
      );
      if (candidates.some((listener) => bindsArrival(listener, arrival))) continue;
      const arrives = arrival ?? "docker_gwbridge's address, which Docker picks at start (an overlay network)";
      report(
        published.field,
        candidates.length === 0
          ? `${published.hostPort}/${published.protocol} is published to port ${published.containerPort} of ${node.name}'s pod, where nothing listens (it is for ${published.reaches})`
          : `${published.hostPort}/${published.protocol} reaches ${node.name}'s pod at ${arrives}, where ${candidates.map(describe).join(" and ")} does not listen`,
      );
    }
  }
}
