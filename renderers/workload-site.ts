/**
 * The static site each node's workload container serves: the nginx server blocks that answer on the node's
 * service ports (so its Consul checks test a real process), and the page that says who answered.
 */
import type { Lab, WorkloadKind } from "../topology";
import { GENERATED_NOTICE } from "../shared/generated-file";

export const WORKLOAD_NGINX_CONF = "/etc/nginx/conf.d/default.conf";
export const WORKLOAD_HTML_ROOT = "/usr/share/nginx/html";

export interface WorkloadSite {
  readonly kind: WorkloadKind;
  /** nginx server blocks for the image's `conf.d/` (inside its `http {}` block). */
  readonly nginxConf: string;
  readonly indexHtml: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function pageBody(lab: Lab, nodeName: string, kind: WorkloadKind): { title: string; text: string } {
  const { site } = lab.topology;
  const node = lab.node(nodeName);
  switch (kind) {
    case "app":
      return { title: site.hostname, text: `Served by app server ${node.name} (${node.address}).` };
    case "sorry":
      return {
        title: `${site.hostname} is under maintenance`,
        text: `Sorry, no app server is available. Served by ${node.name} (${node.address}).`,
      };
    default: {
      const services = lab.instancesOn(nodeName).map((instance) => instance.service.name);
      return {
        title: `${[...new Set(services)].join(", ")} on ${node.name}`,
        text: `Placeholder ${kind} workload on ${node.name} (${node.address}).`,
      };
    }
  }
}

/** The node's site, or undefined when the node registers no service. */
export function renderWorkloadSite(lab: Lab, nodeName: string): WorkloadSite | undefined {
  const kind = lab.workloadOf(nodeName);
  if (!kind) return undefined;
  const ports = [...new Set(lab.instancesOn(nodeName).map((instance) => instance.service.port))].sort((a, b) => a - b);
  const servers = ports.map((port) =>
    [
      "server {",
      `    listen ${port};`,
      "    server_name _;",
      `    root ${WORKLOAD_HTML_ROOT};`,
      "    location / {",
      "        try_files /index.html =404;",
      "    }",
      "}",
    ].join("\n"),
  );
  const { title, text } = pageBody(lab, nodeName, kind);
  const indexHtml = [
    "<!doctype html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`,
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body>`,
    "</html>",
    "",
  ].join("\n");
  return {
    kind,
    nginxConf: `${GENERATED_NOTICE}\n${servers.join("\n\n")}\n`,
    indexHtml,
  };
}
