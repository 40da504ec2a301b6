/**
 * The article's `consul.conf`: the Consul UI and API behind nginx on each load balancer, proxied to the local agent.
 * In "secure" mode the site's entry is plain HTTP, so the UI (and the token typed into it) never goes through it: the
 * vhost sends the browser to the published HTTPS API under the same name, which the publishing server's certificate
 * carries.
 */
import type { Lab } from "../topology";
import { GENERATED_NOTICE } from "../shared/generated-file";

/** The load balancers' nginx vhost that proxies the Consul UI and API to the local agent. */
export function renderConsulUiVhost(lab: Lab): string {
  const { site } = lab.topology;
  if (lab.secure) return renderUiRedirect(lab);
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

/** "secure": the UI's name answers with a redirect to the published HTTPS API, and proxies nothing. */
function renderUiRedirect(lab: Lab): string {
  const { site, publish } = lab.topology;
  return [
    GENERATED_NOTICE,
    "server {",
    `    listen ${lab.portOf(site.loadBalancerService)};`,
    `    server_name ${site.consulUiHostname};`,
    "    # The UI and the API are served over HTTPS only, by the publishing server; never through this plain-HTTP hop.",
    `    return 308 https://${site.consulUiHostname}:${publish.httpPort}$request_uri;`,
    "}",
    "",
  ].join("\n");
}
