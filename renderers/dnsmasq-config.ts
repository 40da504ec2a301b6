/**
 * Each node's dnsmasq, as in the article: `.consul` names go to the local agent's DNS interface, on the same
 * loopback address and port the agent config listens on.
 *
 * In Docker the node's resolver is Docker's embedded DNS (127.0.0.11), which answers container names and passes
 * everything else to the node's `dns` server: this dnsmasq. So dnsmasq never reads resolv.conf (it would point back
 * at itself), and sends names outside `.consul` to Consul only when Consul has recursors to answer them.
 */
import { Lab, NODE_DNS_PORT, NODE_LOOPBACK } from "../topology";
import { GENERATED_NOTICE } from "../shared/generated-file";

/** Where the forwarder's image (assets/dnsmasq/Dockerfile) reads its configuration. */
export const DNSMASQ_CONF_FILE = "/etc/dnsmasq.d/consul-lab.conf";
/** The port dnsmasq answers on inside a node: the standard one, since the node's resolver does not take a port. */
export const DNSMASQ_PORT = NODE_DNS_PORT;

/** The dnsmasq config every node runs: the Consul domain to the local agent, and the recursors' policy for the rest. */
export function renderDnsmasqConf(lab: Lab): string {
  const { consul, dnsForwarder } = lab.topology;
  const agentDns = `${NODE_LOOPBACK}#${consul.ports.dns}`;
  const recursing = consul.recursors.length > 0;
  return [
    GENERATED_NOTICE,
    "# Answer only on the node's loopback, where the node's resolver sends its queries.",
    `listen-address=${NODE_LOOPBACK}`,
    "bind-interfaces",
    `port=${DNSMASQ_PORT}`,
    "# resolv.conf points back at this forwarder; upstreams are listed here instead.",
    "no-resolv",
    "# Never send single-label names upstream.",
    "domain-needed",
    `# .${consul.domain} names go to the local Consul agent.`,
    `server=/${consul.domain}/${agentDns}`,
    ...(recursing
      ? [
          `# Everything else too: Consul recurses to its recursors (${consul.recursors.join(", ")}).`,
          `server=${agentDns}`,
        ]
      : ["# No Consul recursors: names outside Consul's domain get no upstream (the lab also runs offline)."]),
    `cache-size=${dnsForwarder.cacheSize}`,
    "# A service that comes back must resolve at once, not after a cached NXDOMAIN expires.",
    "no-negcache",
    "",
  ].join("\n");
}
