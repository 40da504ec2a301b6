/**
 * The lab as a Graphviz graph (DOT), for `npm run diagram`: the host's published ports, every node with its address,
 * role and services (on a lab over several hosts, inside a box per Docker host), and the site's path through it
 * (entry, load balancers, app servers, the sorry server as the backup). Graphviz lays it out; nothing here places a
 * box. Same topology, same text.
 */
import { instance } from "@viz-js/viz";
import type { Lab } from "../topology";

/** A DOT string literal. */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A DOT HTML-like label's text. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const id = (nodeName: string) => quoted(`node:${nodeName}`);

export function renderTopologyDot(lab: Lab): string {
  const { topology } = lab;
  const { publish, site, network } = topology;
  const host = lab.publishedHost;
  const lines: string[] = [
    `digraph ${quoted(topology.name)} {`,
    '  graph [rankdir=LR, fontname="Courier", fontsize=11, nodesep=0.25, ranksep=0.9];',
    // A monospaced face: Graphviz sizes boxes from a face's metrics, and every viewer's monospace is about as wide.
    '  node [fontname="Courier", fontsize=10, shape=plain];',
    '  edge [fontname="Courier", fontsize=9, color="#555555"];',
    '  subgraph "cluster_host" {',
    `    label=${quoted(lab.multiHost && lab.publishesOnLoopback ? `this machine (${publish.address}, forwarded from ${lab.hostOf(lab.publishNode.name)!.name} over ssh)` : lab.multiHost ? `${lab.hostOf(lab.publishNode.name)!.name} (${publish.address})` : `this machine (${publish.address})`)}; style="rounded"; color="#999999";`,
    `    "port:entry" [shape=box, style="rounded", label=${quoted(`:${publish.entryPort} site entry`)}];`,
    `    "port:api" [shape=box, style="rounded", label=${quoted(`:${publish.httpPort} Consul ${lab.apiScheme.toUpperCase()} API and UI`)}];`,
    `    "port:dns" [shape=box, style="rounded", label=${quoted(`:${publish.dnsPort} Consul DNS`)}];`,
    "  }",
    '  subgraph "cluster_lab" {',
    `    label=${quoted(`lab network ${topology.name} (${lab.multiHost ? "swarm overlay " : ""}${network.subnet}, datacenter ${topology.datacenter}, security ${topology.security})`)}; style="rounded"; color="#999999";`,
  ];
  const nodeLines = new Map<string, string>();
  for (const node of lab.nodes) {
    const server = node.role === "server";
    const services = lab.instancesOn(node.name).map((instance) => {
      const tags = instance.service.tags.length > 0 ? ` [${instance.service.tags.join(", ")}]` : "";
      return `<TR><TD ALIGN="LEFT">${html(`${instance.service.name}${tags} :${instance.service.port}`)}</TD></TR>`;
    });
    const workload = lab.workloadOf(node.name);
    nodeLines.set(
      node.name,
      `    ${id(node.name)} [label=<<TABLE BORDER="${server ? 2 : 1}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" BGCOLOR="${server ? "#e8eefc" : "#f4f4f4"}">` +
        `<TR><TD ALIGN="LEFT"><B>${html(node.name)}</B></TD></TR>` +
        `<TR><TD ALIGN="LEFT">${html(node.address)}</TD></TR>` +
        `<TR><TD ALIGN="LEFT"><I>${server ? "Consul server" : "Consul client"}${workload ? `, ${html(workload)}` : ""}</I></TD></TR>` +
        `${services.join("")}</TABLE>>];`,
    );
  }
  if (!lab.multiHost) for (const node of lab.nodes) lines.push(nodeLines.get(node.name)!);
  // Over several hosts, each host's nodes in a box of its own, named with how it is reached.
  for (const dockerHost of lab.hosts) {
    const nodes = lab.nodesOn(dockerHost.name);
    if (nodes.length === 0) continue;
    const reached = dockerHost.endpoint ?? `context ${dockerHost.context}`;
    const manager = dockerHost.name === lab.managerHost?.name ? ", swarm manager" : "";
    lines.push(
      `    subgraph ${quoted(`cluster_docker_host:${dockerHost.name}`)} {`,
      `      label=${quoted(`Docker host ${dockerHost.name} (${reached}${manager})`)}; style="dashed"; color="#777777";`,
    );
    for (const node of nodes) lines.push(`  ${nodeLines.get(node.name)!}`);
    lines.push("    }");
  }
  lines.push("  }");
  const entry = lab.entryNode;
  const balancers = lab.nodesRunning("load-balancer");
  if (entry) lines.push(`  "port:entry" -> ${id(entry.name)};`);
  for (const balancer of balancers) {
    if (entry) lines.push(`  ${id(entry.name)} -> ${id(balancer.name)};`);
    for (const app of lab.nodesRunning("app")) lines.push(`  ${id(balancer.name)} -> ${id(app.name)} [label="app"];`);
    for (const sorry of lab.nodesRunning("sorry"))
      lines.push(`  ${id(balancer.name)} -> ${id(sorry.name)} [label="backup", style=dashed];`);
  }
  lines.push(
    `  "port:api" -> ${id(lab.publishNode.name)} [label=${quoted(lab.apiScheme)}];`,
    `  "port:dns" -> ${id(lab.publishNode.name)} [label="dns"];`,
  );
  if (balancers.length > 0) {
    const ui = lab.secure
      ? `Host: ${site.consulUiHostname}: redirect to https://${site.consulUiHostname}:${publish.httpPort}/ui/`
      : `Host: ${site.consulUiHostname}: the Consul UI, proxied`;
    lines.push(`  "vhost:ui" [shape=note, fontsize=9, label=${quoted(`UI vhost on the load balancers\n${ui}`)}];`);
    for (const balancer of balancers)
      lines.push(`  ${id(balancer.name)} -> "vhost:ui" [style=dotted, arrowhead=none];`);
  }
  lines.push(`  label=${quoted(`the site: http://${host}:${publish.entryPort}/`)};`, "}", "");
  return lines.join("\n");
}

/** The lab's diagram as SVG, laid out by Graphviz compiled to WebAssembly (`@viz-js/viz`; no system binary). */
export async function renderTopologySvg(lab: Lab): Promise<string> {
  return (await instance()).renderString(renderTopologyDot(lab), { format: "svg" });
}
