import type { TopologyInput } from "./schema";

/**
 * The article's lab, with its copy-paste bugs fixed: dev1005 has its own node name, the sorry server
 * is tagged `sorry` (not `web`), and every service uses `tags`. Everything left out takes the schema's default.
 */
export const ARTICLE_TOPOLOGY: TopologyInput = {
  datacenter: "dc1",
  network: { subnet: "10.0.1.0/24" },
  nodes: [
    { name: "dev1001", address: "10.0.1.1", role: "server" },
    { name: "dev1002", address: "10.0.1.2", role: "server" },
    { name: "dev1003", address: "10.0.1.3", role: "server" },
    { name: "dev1004", address: "10.0.1.4", role: "client" },
    { name: "dev1005", address: "10.0.1.5", role: "client" },
    { name: "dev1006", address: "10.0.1.6", role: "client" },
  ],
  services: [
    // The entry point and the load balancers answer their checks themselves, not through the site's backends.
    {
      name: "keepalived",
      id: "keepalived",
      tags: ["master"],
      port: 80,
      nodes: ["dev1001"],
      check: { path: "/_health" },
    },
    { name: "nginx", id: "lb", tags: ["lb"], port: 80, nodes: ["dev1002", "dev1003"], check: { path: "/_health" } },
    { name: "test_hoge_dev_jp", id: "web", tags: ["web"], port: 80, nodes: ["dev1004", "dev1005"] },
    { name: "test_hoge_dev_jp", id: "sorry", tags: ["sorry"], port: 80, nodes: ["dev1006"] },
  ],
};
