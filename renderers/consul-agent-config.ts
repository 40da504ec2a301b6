/**
 * The Consul agent configuration of one node, as the JSON file the agent reads from its config dir.
 * Modern equivalents of every setting in the article: `retry_join` instead of `start_join`, `ui_config`
 * instead of `ui_dir`, HTTP checks instead of `curl` scripts, and `tags` (never `tag`).
 */
import { Lab, NODE_LOOPBACK, ServiceInstance } from "../topology";

/** Where the agent finds its files inside the official image. */
export const CONSUL_CONFIG_DIR = "/consul/config";
export const CONSUL_DATA_DIR = "/consul/data";
export const AGENT_CONFIG_FILE = `${CONSUL_CONFIG_DIR}/agent.json`;
/** Where the maintenance watch's handler (assets/handlers/maintenance-flag.sh) is placed in the agent container. */
export const MAINTENANCE_HANDLER_FILE = "/consul/handlers/maintenance-flag.sh";

export interface AgentWatch {
  readonly type: "service";
  readonly service: string;
  /** `args`, not the removed `handler` string: no shell parses it. */
  readonly args: readonly string[];
}

export interface AgentCheck {
  readonly id: string;
  readonly name: string;
  readonly http?: string;
  readonly tcp?: string;
  readonly interval: string;
  readonly timeout: string;
}

export interface AgentService {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly port: number;
  readonly checks: readonly AgentCheck[];
}

export interface AgentConfig {
  readonly node_name: string;
  readonly datacenter: string;
  readonly domain: string;
  readonly data_dir: string;
  readonly server: boolean;
  readonly bootstrap_expect?: number;
  readonly ui_config?: { readonly enabled: boolean };
  readonly retry_join: readonly string[];
  readonly bind_addr: string;
  readonly advertise_addr: string;
  readonly client_addr: string;
  readonly ports: { readonly http: number; readonly dns: number };
  readonly log_level: string;
  readonly disable_update_check: boolean;
  readonly enable_local_script_checks: boolean;
  readonly recursors: readonly string[];
  readonly dns_config: {
    readonly allow_stale: boolean;
    readonly max_stale: string;
    readonly node_ttl: string;
    readonly service_ttl: Readonly<Record<string, string>>;
  };
  readonly services: readonly AgentService[];
  readonly watches?: readonly AgentWatch[];
}

/** The load balancers' watch: the site's service health in, the maintenance flag out. */
export function renderMaintenanceWatch(lab: Lab): AgentWatch {
  const { site } = lab.topology;
  return {
    type: "service",
    service: site.service,
    args: [
      "/bin/sh",
      MAINTENANCE_HANDLER_FILE,
      `http://${lab.agentHttpAddress}`,
      site.maintenanceKey,
      site.appTag,
      site.sorryTag,
    ],
  };
}

function renderService(instance: ServiceInstance): AgentService {
  const { service } = instance;
  const { check } = service;
  const target =
    check.type === "http"
      ? { http: `http://${NODE_LOOPBACK}:${service.port}${check.path ?? "/"}` }
      : { tcp: `${NODE_LOOPBACK}:${service.port}` };
  return {
    id: instance.id,
    name: service.name,
    tags: service.tags,
    port: service.port,
    checks: [
      {
        id: `${instance.id}-${check.type}`,
        name: `${service.name} answers ${check.type === "http" ? "HTTP" : "TCP"} on port ${service.port}`,
        ...target,
        interval: check.interval,
        timeout: check.timeout,
      },
    ],
  };
}

export function renderAgentConfig(lab: Lab, nodeName: string): AgentConfig {
  const node = lab.node(nodeName);
  const { topology } = lab;
  const { consul } = topology;
  const isServer = node.role === "server";
  return {
    node_name: node.name,
    datacenter: topology.datacenter,
    domain: consul.domain,
    data_dir: CONSUL_DATA_DIR,
    server: isServer,
    ...(isServer ? { bootstrap_expect: lab.servers.length, ui_config: { enabled: true } } : {}),
    retry_join: lab.joinAddresses,
    bind_addr: node.address,
    advertise_addr: node.address,
    // The API and DNS listen on the node's loopback, where its own containers and dnsmasq reach them, and on the
    // node's lab address, where the ports published on `publish.address` arrive. Nowhere else.
    client_addr: `${NODE_LOOPBACK} ${node.address}`,
    ports: { http: consul.ports.http, dns: consul.ports.dns },
    log_level: consul.logLevel,
    disable_update_check: true,
    // Script checks only from files an operator placed; never registrable over the HTTP API.
    enable_local_script_checks: true,
    recursors: consul.recursors,
    dns_config: {
      allow_stale: consul.dns.allowStale,
      max_stale: consul.dns.maxStale,
      node_ttl: consul.dns.nodeTtl,
      service_ttl: { "*": consul.dns.serviceTtl },
    },
    services: lab.instancesOn(node.name).map(renderService),
    ...(lab.workloadOf(node.name) === "load-balancer" ? { watches: [renderMaintenanceWatch(lab)] } : {}),
  };
}

/** The file's text: stable key order, two-space indent, trailing newline. */
export function renderAgentConfigJson(lab: Lab, nodeName: string): string {
  return `${JSON.stringify(renderAgentConfig(lab, nodeName), null, 2)}\n`;
}
