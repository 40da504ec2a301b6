/**
 * The Consul agent configuration of one node, as the JSON file the agent reads from its config dir.
 * Modern equivalents of every setting in the article: `retry_join` instead of `start_join`, `ui_config`
 * instead of `ui_dir`, HTTP checks instead of `curl` scripts, and `tags` (never `tag`).
 */
import { checkPath, consulClientAddresses, Lab, NODE_LOOPBACK, ServiceInstance } from "../topology";
import { CONSUL_DATA_DIR } from "../shared/lab-contract";
import { jsonFileText } from "../shared/generated-file";

/** Where the agent finds its files inside the official image. */
export const CONSUL_CONFIG_DIR = "/consul/config";
export const AGENT_CONFIG_FILE = `${CONSUL_CONFIG_DIR}/agent.json`;
/**
 * Where an agent finds its TLS files ("secure" mode): every agent the lab CA's certificate, a server also its own
 * certificate and key. Outside the config dir, which the agent reads every file of.
 */
export const CONSUL_TLS_DIR = "/consul/tls";
export const TLS_CA_FILE = `${CONSUL_TLS_DIR}/ca.pem`;
export const TLS_SERVER_CERT_FILE = `${CONSUL_TLS_DIR}/server.pem`;
export const TLS_SERVER_KEY_FILE = `${CONSUL_TLS_DIR}/server-key.pem`;
/** The secret-bearing part of the config ("secure" mode), which the agent merges with agent.json. */
export const AGENT_SECRETS_FILE = `${CONSUL_CONFIG_DIR}/secrets.json`;
/** Where the maintenance watch's handler (assets/handlers/maintenance-flag.sh) is placed in the agent container. */
export const MAINTENANCE_HANDLER_FILE = "/consul/handlers/maintenance-flag.sh";
/**
 * The handler's ACL token ("secure" labs), beside it: the agent's environment holds only this path
 * (MAINTENANCE_FLAG_TOKEN_FILE), so `docker inspect` shows no token. Readable by the agent's user, whom Consul runs
 * the handler as; the upload cannot give the file to that user, so it is readable inside the agent container alone.
 */
export const MAINTENANCE_HANDLER_TOKEN_FILE = "/consul/handlers/maintenance-flag.token";
export { CONSUL_DATA_DIR, MAINTENANCE_HANDLER_LOG } from "../shared/lab-contract";

/**
 * The secrets an agent config carries in "secure" mode. The stack passes Terraform variable references, so the
 * synthesized JSON holds `${var...}` expressions, never values; tests pass literal values.
 */
export interface AgentSecrets {
  readonly gossipKey: string;
  /** Servers only: the initial management token. */
  readonly managementToken: string;
  /** The node's own token (see the node-<name> ACL role). */
  readonly nodeToken: string;
  /** Load balancers only: the maintenance watch's token. */
  readonly maintenanceWatchToken: string;
  /** What the agent answers DNS with (the `dns` role). */
  readonly dnsToken: string;
}

export interface AgentAcl {
  readonly enabled: true;
  readonly default_policy: "deny";
  readonly down_policy: "extend-cache";
  readonly tokens: {
    readonly initial_management?: string;
    readonly agent: string;
    readonly config_file_service_registration: string;
    readonly dns: string;
  };
}

export interface AgentWatch {
  readonly type: "service";
  readonly service: string;
  /** The watch's own ACL token ("secure" mode). */
  readonly token?: string;
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

/** Consul's `tls` stanza, as far as the lab sets it. */
export interface AgentTls {
  readonly defaults: {
    readonly ca_file: string;
    readonly cert_file?: string;
    readonly key_file?: string;
    /** Servers: every RPC and Raft peer must show a certificate of the lab's CA (or of auto_encrypt). */
    readonly verify_incoming?: true;
    readonly verify_outgoing: true;
  };
  /** A peer claiming to be a server must hold `server.<dc>.<domain>`, which only servers' certificates carry. */
  readonly internal_rpc: { readonly verify_server_hostname: true };
  /** Clients of the HTTPS API authenticate with ACL tokens, not client certificates. */
  readonly https?: { readonly verify_incoming: false };
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
  /** Listeners that differ from client_addr: in "secure" mode plain HTTP stays on the node's loopback. */
  readonly addresses?: { readonly http: string };
  readonly ports: { readonly http: number; readonly https?: number; readonly dns: number };
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
  readonly encrypt?: string;
  readonly encrypt_verify_incoming?: boolean;
  readonly encrypt_verify_outgoing?: boolean;
  readonly acl?: AgentAcl;
  readonly tls?: AgentTls;
  /** Servers sign clients' certificates (`allow_tls`); clients ask them for one at start (`tls`). */
  readonly auto_encrypt?: { readonly allow_tls: true } | { readonly tls: true };
  /** auto_encrypt signs with Connect's CA, which servers run only with Connect on. */
  readonly connect?: { readonly enabled: true };
}

/** The load balancers' watch: the site's service health in, the maintenance flag out. */
export function renderMaintenanceWatch(lab: Lab, token?: string): AgentWatch {
  const { site } = lab.topology;
  return {
    type: "service",
    service: site.service,
    ...(token === undefined ? {} : { token }),
    args: [
      "/bin/sh",
      MAINTENANCE_HANDLER_FILE,
      `http://${lab.agentHttpAddress}`,
      site.maintenanceKey,
      site.appTag,
      site.sorryTag,
      lab.siteInstancesKey,
    ],
  };
}

function renderService(lab: Lab, instance: ServiceInstance): AgentService {
  const { service } = instance;
  const { check } = service;
  const target =
    check.type === "http"
      ? { http: `http://${NODE_LOOPBACK}:${service.port}${checkPath(lab.topology.site, service)}` }
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

/**
 * TLS on every RPC, Raft and API connection that leaves a node: servers hold certificates of the lab's CA and check
 * every peer's; clients check that servers are servers and get their own certificates from them (auto_encrypt), so no
 * client holds a key the deploying machine made. Plain HTTP stays on each node's loopback, for the node's own
 * containers; servers serve the API over HTTPS.
 */
function tlsSettings(isServer: boolean): Pick<AgentConfig, "tls" | "auto_encrypt" | "connect"> {
  if (!isServer) {
    return {
      tls: {
        defaults: { ca_file: TLS_CA_FILE, verify_outgoing: true },
        internal_rpc: { verify_server_hostname: true },
      },
      auto_encrypt: { tls: true },
    };
  }
  return {
    tls: {
      defaults: {
        ca_file: TLS_CA_FILE,
        cert_file: TLS_SERVER_CERT_FILE,
        key_file: TLS_SERVER_KEY_FILE,
        verify_incoming: true,
        verify_outgoing: true,
      },
      internal_rpc: { verify_server_hostname: true },
      https: { verify_incoming: false },
    },
    auto_encrypt: { allow_tls: true },
    connect: { enabled: true },
  };
}

/** Gossip encryption and ACLs with default deny, for "secure" mode. */
function securitySettings(
  isServer: boolean,
  secrets: AgentSecrets,
): Pick<AgentConfig, "encrypt" | "encrypt_verify_incoming" | "encrypt_verify_outgoing" | "acl"> {
  return {
    encrypt: secrets.gossipKey,
    encrypt_verify_incoming: true,
    encrypt_verify_outgoing: true,
    acl: {
      enabled: true,
      default_policy: "deny",
      // A lost leader must not turn every cached permission into a denial.
      down_policy: "extend-cache",
      tokens: {
        ...(isServer ? { initial_management: secrets.managementToken } : {}),
        agent: secrets.nodeToken,
        config_file_service_registration: secrets.nodeToken,
        // DNS lookups carry no token: they use this one, not the anonymous token (which may do nothing).
        dns: secrets.dnsToken,
      },
    },
  };
}

/**
 * The agent config of one node. In "secure" mode `secrets` is required; in "none" mode (the article's open Consul)
 * it is ignored.
 */
export function renderAgentConfig(lab: Lab, nodeName: string, secrets?: AgentSecrets): AgentConfig {
  const node = lab.node(nodeName);
  const { topology } = lab;
  const { consul } = topology;
  const isServer = node.role === "server";
  const secure = lab.secure;
  if (secure && !secrets) throw new Error(`the agent config of "${nodeName}" needs secrets in "secure" mode`);
  const isLoadBalancer = lab.workloadOf(node.name) === "load-balancer";
  const isPublisher = lab.publishNode.name === node.name;
  return {
    node_name: node.name,
    datacenter: topology.datacenter,
    domain: consul.domain,
    data_dir: CONSUL_DATA_DIR,
    server: isServer,
    ...(isServer ? { bootstrap_expect: lab.servers.length } : {}),
    // The UI wherever something serves it from this agent: the servers, the published API (a client's in an open
    // lab), and the load balancers' UI vhost, which proxies to its own agent in an open lab.
    ...(isServer || isPublisher || isLoadBalancer ? { ui_config: { enabled: true } } : {}),
    retry_join: lab.joinAddresses,
    bind_addr: node.address,
    advertise_addr: node.address,
    // The API and DNS listen on the node's loopback, where its own containers and dnsmasq reach them, and on the
    // publishing node where the ports published on `publish.address` arrive (topology/listeners.ts). Nowhere else.
    client_addr: consulClientAddresses(topology, node.name).join(" "),
    // In "secure" mode plain HTTP never leaves the node: what arrives from outside is HTTPS, on a server.
    ...(secure ? { addresses: { http: NODE_LOOPBACK } } : {}),
    ports: {
      http: consul.ports.http,
      ...(secure && isServer ? { https: consul.ports.https } : {}),
      dns: consul.ports.dns,
    },
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
    services: lab.instancesOn(node.name).map((instance) => renderService(lab, instance)),
    ...(isLoadBalancer
      ? { watches: [renderMaintenanceWatch(lab, secure ? secrets!.maintenanceWatchToken : undefined)] }
      : {}),
    ...(secure ? securitySettings(isServer, secrets!) : {}),
    ...(secure ? tlsSettings(isServer) : {}),
  };
}

/** A config file's text: stable key order, two-space indent, trailing newline. */
function toJson(value: unknown): string {
  return jsonFileText(value);
}

/** Settings that carry a secret: they go to their own file. */
const SECRET_BEARING_KEYS = [
  "encrypt",
  "encrypt_verify_incoming",
  "encrypt_verify_outgoing",
  "acl",
  "watches",
] as const;

/**
 * The config as the agent's config dir holds it: `agent.json` with everything readable, and in "secure" mode
 * `secrets.json` with the gossip key, the ACL tokens and the token-bearing watches. Consul merges the two. A plan
 * shows neither: the container's `upload` is one set-typed block, which Terraform redacts whole once one element is
 * sensitive. Review a change in cdktf.out/rendered/<node>/ instead (stacks/rendered-files.ts).
 */
export function renderAgentConfigFiles(lab: Lab, nodeName: string, secrets?: AgentSecrets): Record<string, string> {
  const config = renderAgentConfig(lab, nodeName, secrets);
  if (!lab.secure) return { [AGENT_CONFIG_FILE]: toJson(config) };
  const readable: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    ((SECRET_BEARING_KEYS as readonly string[]).includes(key) ? secret : readable)[key] = value;
  }
  return { [AGENT_CONFIG_FILE]: toJson(readable), [AGENT_SECRETS_FILE]: toJson(secret) };
}
