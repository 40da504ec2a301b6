/**
 * How a process inside a node resolves names. Every image here is Alpine, so the rules are musl's: a name with
 * fewer dots than `ndots` is tried with each search domain first, in order, and as written last; a name with at
 * least `ndots` dots is tried only as written. Docker writes `options ndots:0` for user-defined networks unless the
 * container sets its own ndots, and musl then never applies a search domain; hence an explicit ndots here.
 *
 * The queries go to Docker's embedded DNS (127.0.0.11), which answers container names and forwards the rest to the
 * node's `dns` server: its dnsmasq on the node's loopback (see dnsmasq-config.ts), inside the node's namespace.
 */
import { Lab, NODE_LOOPBACK } from "../topology";

export interface NodeResolverSettings {
  /** Docker's `dns`: where the embedded DNS forwards what it does not answer itself. */
  readonly nameservers: readonly string[];
  /** Docker's `dns_search`, in the order musl tries them. */
  readonly search: readonly string[];
  /** Docker's `dns_opts`. */
  readonly options: readonly string[];
}

/**
 * `dev1001` resolves as `dev1001.node.consul`, `keepalived.service` as `keepalived.service.consul`, and
 * `keepalived.service.consul` as written. ndots 2 makes names of one dot (`keepalived.service`, `example.com`)
 * try the search domains first; Consul answers the misses with NXDOMAIN, on which musl moves to the next candidate.
 */
export function renderNodeResolver(lab: Lab): NodeResolverSettings {
  const domain = lab.topology.consul.domain;
  return {
    nameservers: [NODE_LOOPBACK],
    search: [`node.${domain}`, `service.${domain}`, domain],
    options: ["ndots:2"],
  };
}
