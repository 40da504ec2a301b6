/**
 * The entry point on the keepalived node: the article's VIP in front of both load balancers. One nginx proxies to
 * every load balancer and moves on to the next when one does not answer, so the site stays up while either LB is down.
 */
import type { Lab } from "../topology";
import { healthLocation, proxyFailover, proxyHeaders } from "./nginx-snippets";
import { GENERATED_NOTICE } from "../shared/generated-file";

/** The entry point's nginx config: every load balancer as an upstream, skipping one that does not answer. */
export function renderEntryPointConf(lab: Lab): string {
  const { site } = lab.topology;
  const entryPort = lab.portOf(site.entryService);
  const lbPort = lab.portOf(site.loadBalancerService);
  const healthPath = lab.healthPathOf(site.entryService);
  const balancers = lab.nodesRunning("load-balancer");
  if (balancers.length === 0) throw new Error("the entry point needs at least one load balancer");
  return [
    GENERATED_NOTICE,
    "upstream load_balancers {",
    ...balancers.map((node) => `    server ${node.address}:${lbPort} max_fails=1 fail_timeout=5s; # ${node.name}`),
    "}",
    "",
    "server {",
    `    listen ${entryPort} default_server;`,
    "    server_name _;",
    ...healthLocation(healthPath, "The entry point's own Consul check: this process answers, whatever the LBs' state."),
    "",
    "    location / {",
    "        proxy_pass http://load_balancers;",
    ...proxyHeaders(["Host", "X-Real-IP", "X-Forwarded-For"]),
    ...proxyFailover("error timeout http_502 http_504"),
    "    }",
    "}",
    "",
  ].join("\n");
}
