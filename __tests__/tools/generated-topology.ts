import type { TopologyInput } from "../../topology";
import { intToIpv4, ipv4ToInt } from "../../topology/ipv4";

/**
 * A lab shaped like the article's (3 servers, 2 load balancers, 1 sorry server), with the rest app servers; with
 * `hostCount`, spread over that many Docker hosts reached over SSH.
 */
export function generatedTopology(nodeCount: number, hostCount = 0): TopologyInput {
  const base = ipv4ToInt("10.8.0.0");
  const nodes = Array.from({ length: nodeCount }, (_, index) => ({
    name: `node${String(index + 1).padStart(4, "0")}`,
    address: intToIpv4(base + index + 1),
    role: index < 3 ? ("server" as const) : ("client" as const),
  }));
  const names = nodes.map((node) => node.name);
  const hosts = Array.from({ length: hostCount }, (_, index) => ({
    name: `host${index + 1}`,
    endpoint: `ssh://lab@host${index + 1}.example.test`,
  }));
  return {
    network: { subnet: "10.8.0.0/20" },
    ...(hostCount > 0 ? { hosts } : {}),
    nodes,
    services: [
      { name: "keepalived", tags: ["master"], port: 80, nodes: [names[0]] },
      { name: "nginx", id: "lb", tags: ["lb"], port: 80, nodes: names.slice(1, 3) },
      { name: "test_hoge_dev_jp", id: "sorry", tags: ["sorry"], port: 80, nodes: [names[3]] },
      { name: "test_hoge_dev_jp", id: "web", tags: ["web"], port: 80, nodes: names.slice(4) },
    ],
  };
}
