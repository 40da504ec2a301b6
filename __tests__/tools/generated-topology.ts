import type { TopologyInput } from "../../topology";
import { intToIpv4, ipv4ToInt } from "../../topology/ipv4";

/** A lab shaped like the article's (3 servers, 2 load balancers, 1 sorry server), with the rest app servers. */
export function generatedTopology(nodeCount: number): TopologyInput {
  const base = ipv4ToInt("10.8.0.0");
  const nodes = Array.from({ length: nodeCount }, (_, index) => ({
    name: `node${String(index + 1).padStart(4, "0")}`,
    address: intToIpv4(base + index + 1),
    role: index < 3 ? ("server" as const) : ("client" as const),
  }));
  const names = nodes.map((node) => node.name);
  return {
    network: { subnet: "10.8.0.0/20" },
    nodes,
    services: [
      { name: "keepalived", tags: ["master"], port: 80, nodes: [names[0]] },
      { name: "nginx", id: "lb", tags: ["lb"], port: 80, nodes: names.slice(1, 3) },
      { name: "test_hoge_dev_jp", id: "sorry", tags: ["sorry"], port: 80, nodes: [names[3]] },
      { name: "test_hoge_dev_jp", id: "web", tags: ["web"], port: 80, nodes: names.slice(4) },
    ],
  };
}
