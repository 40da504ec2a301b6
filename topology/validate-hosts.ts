/**
 * The rules of a lab over several Docker hosts: each host reached one way and listed once, every node's host known, a
 * server on a host of its own unless placed, Swarm's address range clear of the nodes, and a publish node the CLI can
 * reach. One rule of RELATION_RULES (validate.ts).
 */
import { bindsLoopback, cidrOf, contains, isNetworkAddress, parseCidr, topQuarter } from "./ipv4";
import { publishNodeName, swarmRangeOf } from "./model";
import { placeNodes } from "./placement";
import { engineIdentity, parseEngineEndpoint } from "./engine-endpoint";
import type { HostSpec, Topology } from "./schema";
import type { Report } from "./problems";

/**
 * The hosts of a lab over several machines: each reached one way, named once, and enough of them for every server to
 * have its own unless the topology places servers together itself.
 */
export function checkHosts(topology: Topology, report: Report): void {
  const hosts = topology.hosts;
  if (!hosts) {
    topology.nodes.forEach((node, index) => {
      if (node.host !== undefined)
        report(
          `nodes[${index}].host`,
          `"${node.host}" names a host, but the topology has no hosts list; add hosts, or leave host out`,
        );
    });
    if (topology.network.swarmRange !== undefined)
      report("network.swarmRange", "only a lab over several hosts (a hosts list) has a Swarm range; leave it out");
    return;
  }
  const byName = new Map<string, number>();
  hosts.forEach((host, index) => {
    const first = byName.get(host.name);
    if (first === undefined) byName.set(host.name, index);
    else
      report(`hosts[${index}].name`, `duplicate "${host.name}" (also hosts[${first}]); every host needs its own name`);
    if ((host.endpoint === undefined) === (host.context === undefined))
      report(
        `hosts[${index}]`,
        `"${host.name}" needs exactly one of endpoint (ssh://user@host or tcp://host:2376) and context (a Docker context name)`,
      );
    const tcp = host.endpoint?.startsWith("tcp://") ?? false;
    if (tcp && host.certPath === undefined)
      report(
        `hosts[${index}].certPath`,
        `"${host.name}" is reached over tcp://, which must be TLS-protected (an open engine port gives root on the host): give the folder of its client ca.pem, cert.pem and key.pem, or use ssh://`,
      );
    if (host.certPath !== undefined && !tcp)
      report(
        `hosts[${index}].certPath`,
        `only a tcp:// endpoint takes certPath; ssh:// and a context bring their own credentials`,
      );
    if (host.certPath !== undefined && !host.certPath.startsWith("/"))
      report(
        `hosts[${index}].certPath`,
        `"${host.certPath}" must be an absolute path: Terraform reads it from the stack's own folder, not from where you run the CLI`,
      );
  });
  // The same engine twice, under two names, would have placement count one machine as two.
  const engines = new Map<string, number>();
  hosts.forEach((host, index) => {
    let identity: string | undefined;
    if (host.context !== undefined) identity = `context ${host.context}`;
    else if (host.endpoint !== undefined) {
      const parsed = parseEngineEndpoint(host.endpoint);
      if (typeof parsed === "string") {
        report(`hosts[${index}].endpoint`, parsed);
        return;
      }
      identity = engineIdentity(parsed);
    }
    if (identity === undefined) return;
    const first = engines.get(identity);
    if (first === undefined) engines.set(identity, index);
    else
      report(
        `hosts[${index}]`,
        `"${hosts[index].name}" is the same engine as hosts[${first}] ("${hosts[first].name}": ${hosts[first].endpoint ?? `context ${hosts[first].context}`}); list each machine once`,
      );
  });
  topology.nodes.forEach((node, index) => {
    if (node.host !== undefined && !byName.has(node.host))
      report(
        `nodes[${index}].host`,
        `"${node.host}" is not a host of hosts (${hosts.map((host) => host.name).join(", ")})`,
      );
  });
  checkSwarmRange(topology, hosts.length, report);
  // The CLI reaches a publish node's loopback ports through ssh forwards, which a tcp:// host cannot give.
  const placement = placeNodes(topology);
  const publishName = publishNodeName(topology);
  const publishHost = hosts.find((host) => host.name === placement.hostOf.get(publishName ?? ""));
  if (publishHost && engineScheme(publishHost) === "tcp" && bindsLoopback(topology.publish.address))
    report(
      "publish.node",
      `${publishName} runs on ${publishHost.name}, reached over tcp://: it publishes on that host's loopback, which this machine reaches only through ssh forwards; put the publish node on a host reached over ssh://, or (security "secure" only) publish on an address of that host with publish.exposeOnNetwork`,
    );
  // Placement is judged only on a list it can use: known hosts, each named once.
  if (topology.nodes.some((node) => node.host !== undefined && !byName.has(node.host))) return;
  if (byName.size < hosts.length) return;
  const { serversWithoutOwnHost } = placement;
  if (serversWithoutOwnHost.length > 0) {
    report(
      "hosts",
      `every host already runs a server, and none is left for ${serversWithoutOwnHost.join(", ")}: ` +
        `add hosts, or name those servers' host yourself to let servers share one (losing that host then loses all of its votes)`,
    );
  }
}

/** How a host's engine is reached, from its parsed endpoint; undefined for a context or an endpoint Docker refuses. */
function engineScheme(host: HostSpec): "ssh" | "tcp" | undefined {
  const parsed = host.endpoint === undefined ? undefined : parseEngineEndpoint(host.endpoint);
  return typeof parsed === "object" ? parsed.scheme : undefined;
}

/**
 * The Swarm range of a lab over several hosts: inside the subnet, on a boundary of its size, with room for one address
 * per host beside the network and last addresses, and no node address in it.
 */
function checkSwarmRange(topology: Topology, hostCount: number, report: Report): void {
  const given = topology.network.swarmRange !== undefined;
  const field = given ? "network.swarmRange" : "network.subnet";
  const rangeCidr = swarmRangeOf(topology);
  const range = parseCidr(rangeCidr);
  const subnet = parseCidr(topology.network.subnet);
  if (
    given &&
    (!isNetworkAddress(rangeCidr) ||
      range.network < subnet.network ||
      range.network + range.size > subnet.network + subnet.size)
  ) {
    report(
      field,
      `${rangeCidr} must be a block inside ${topology.network.subnet}, written with its first address (such as ${cidrOf(topQuarter(subnet))})`,
    );
    return;
  }
  if (range.size - 2 < hostCount) {
    report(
      field,
      `Swarm's range ${rangeCidr} has room for ${Math.max(0, range.size - 2)} of its own addresses, and ${hostCount} hosts need one each: ${given ? "give a larger network.swarmRange" : "use a larger subnet, or set network.swarmRange"}`,
    );
  }
  topology.nodes.forEach((node, index) => {
    if (contains(range, node.address))
      report(
        `nodes[${index}].address`,
        `${node.address} lies in ${rangeCidr}, where Swarm takes its own addresses on a lab over several hosts (one per host, for the overlay's endpoint there); choose an address outside it${given ? "" : ", or set network.swarmRange"}`,
      );
  });
}
