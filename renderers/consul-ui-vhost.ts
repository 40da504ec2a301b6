/** The article's `consul.conf`: the Consul UI and API behind nginx on each load balancer, proxied to the local agent. */
import type { Lab } from "../topology";
import { GENERATED_NOTICE } from "../shared/generated-file";

/** The load balancers' nginx vhost that proxies the Consul UI and API to the local agent. */
export function renderConsulUiVhost(lab: Lab): string {
  const { site } = lab.topology;
  const agent = `http://${lab.agentHttpAddress}`;
  return [
    GENERATED_NOTICE,
    "server {",
    // The load balancers' port, where the entry point sends every request, whatever its Host.
    `    listen ${lab.portOf(site.loadBalancerService)};`,
    `    server_name ${site.consulUiHostname};`,
    "",
    "    location = / {",
    "        return 302 /ui/;",
    "    }",
    "    location /ui {",
    `        proxy_pass ${agent};`,
    "    }",
    "    # Forward Consul API requests (the UI calls them too).",
    "    location /v1 {",
    `        proxy_pass ${agent};`,
    "        proxy_buffering off; # blocking queries stream their answer",
    "        proxy_read_timeout 10m;",
    "    }",
    "}",
    "",
  ].join("\n");
}
