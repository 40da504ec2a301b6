/**
 * The validated lab, with the facts every renderer and construct derives from the topology computed once:
 * which nodes are servers, which service instances run where, and what workload each node runs.
 */
import { bindsLoopback, cidrOf, lastUsableHost, parseCidr, topQuarter } from "./ipv4";
import { managerHost, placeNodes } from "./placement";
import type { HostSpec, NodeSpec, ServiceSpec, Topology } from "./schema";

/** What a node's workload container does, derived from the services it registers. */
export type WorkloadKind = "app" | "sorry" | "load-balancer" | "entry" | "placeholder";

/**
 * What the constructs append to a node's name for the containers beside its agent (`<lab>-<node>-<suffix>`): its
 * namespace, its DNS forwarder, and its workload of any kind. A node named like another node plus one of these would
 * give two containers one name.
 */
export const NODE_CONTAINER_SUFFIXES: readonly string[] = [
  "net",
  "dns",
  ...(["app", "sorry", "load-balancer", "entry", "placeholder"] satisfies WorkloadKind[]),
];

/** One registration of a service on one node. */
export interface ServiceInstance {
  readonly service: ServiceSpec;
  /** Position of the service in `topology.services`, for error paths. */
  readonly serviceIndex: number;
  readonly node: string;
  /** Consul's service ID: the spec's `id`, or the service name. */
  readonly id: string;
}

/**
 * Where a node's processes reach their own agent: every container of a node shares the agent's network namespace,
 * so the agent's HTTP API and DNS interface are on the node's loopback.
 */
export const NODE_LOOPBACK = "127.0.0.1";

/** The port each node's dnsmasq answers on, in the node's namespace: the standard one, as resolvers take no port. */
export const NODE_DNS_PORT = 53;

/** The folder of the maintenance flag (`web/site/maintenance/` for `web/site/maintenance/key`), with its slash. */
export function maintenanceFolder(maintenanceKey: string): string {
  return maintenanceKey.slice(0, maintenanceKey.lastIndexOf("/") + 1);
}

/** The last segment of the operator's maintenance key (see Lab.operatorMaintenanceKey). */
export const OPERATOR_MAINTENANCE_SEGMENT = "operator";
/** The last segment of the site's instance list (see Lab.siteInstancesKey). */
export const SITE_INSTANCES_SEGMENT = "instances";

/** Consul's own ports inside a node (server RPC, LAN and WAN gossip); a service may not take them. */
export const CONSUL_FIXED_PORTS: readonly number[] = [8300, 8301, 8302];

/** The part an instance plays in the site, or undefined for a service that plays none. */
export function instanceWorkload(site: Topology["site"], service: ServiceSpec): WorkloadKind | undefined {
  if (service.name === site.service) {
    if (service.tags.includes(site.sorryTag)) return "sorry";
    if (service.tags.includes(site.appTag)) return "app";
    return undefined;
  }
  if (service.name === site.loadBalancerService) return "load-balancer";
  if (service.name === site.entryService) return "entry";
  return undefined;
}

/**
 * The path a load balancer's or the entry's own check asks when the topology names none: their nginx answers it
 * itself (`location = <path>`), so it must not be a path of the site they serve, as `/` would be.
 */
export const DEFAULT_SELF_CHECK_PATH = "/_health";

/** Whether a service's instances answer their check themselves, in front of the site: the load balancers, the entry. */
export function answersOwnCheck(site: Topology["site"], service: ServiceSpec): boolean {
  const kind = instanceWorkload(site, service);
  return kind === "load-balancer" || kind === "entry";
}

/** The path an HTTP check asks: the topology's, or `/` (a page's root), or DEFAULT_SELF_CHECK_PATH in front of the site. */
export function checkPath(site: Topology["site"], service: ServiceSpec): string {
  return service.check.path ?? (answersOwnCheck(site, service) ? DEFAULT_SELF_CHECK_PATH : "/");
}

/** Every registration of every service on every node, in topology order. */
export function serviceInstances(topology: Topology): ServiceInstance[] {
  return topology.services.flatMap((service, serviceIndex) =>
    service.nodes.map((node) => ({ service, serviceIndex, node, id: service.id ?? service.name })),
  );
}

/** The node whose ports are published: `publish.node`, or the first server (undefined when there is none yet). */
export function publishNodeName(topology: Topology): string | undefined {
  return topology.publish.node ?? topology.nodes.find((node) => node.role === "server")?.name;
}

/** The Docker network's gateway: the one in the topology, or the subnet's last usable address. */
export function networkGateway(topology: Topology): string {
  return topology.network.gateway ?? lastUsableHost(parseCidr(topology.network.subnet));
}

/** The part of a topology's subnet Swarm's own addresses come from: `network.swarmRange`, or its top quarter. */
export function swarmRangeOf(topology: Topology): string {
  return topology.network.swarmRange ?? cidrOf(topQuarter(parseCidr(topology.network.subnet)));
}

/**
 * The IDs the cluster construct gives its own children: a node's scope, named after the node, must not take one
 * (constructs/consul-cluster.ts uses these; validation refuses a node of such a name).
 */
export const CLUSTER_SCOPE_IDS = {
  consulImage: "consul-image",
  nginxImage: "nginx-image",
  alpineImage: "alpine-image",
  loadBalancerImage: "load-balancer-image",
  dnsmasqImage: "dnsmasq-image",
  network: "network",
  leader: "leader",
  aclBootstrap: "acl-bootstrap",
} as const;

/** The scope of a host's images and nodes, on a lab over several hosts: `host-<name>`. */
export const hostScopeId = (hostName: string) => `host-${hostName}`;

/** The validated topology with the facts every layer derives from it, computed once. */
export class Lab {
  readonly topology: Topology;
  readonly servers: readonly NodeSpec[];
  /** The Docker network's gateway address. */
  readonly gateway: string;
  /** The node whose Consul HTTP and DNS ports the host can reach. */
  readonly publishNode: NodeSpec;
  private readonly instancesByNode = new Map<string, ServiceInstance[]>();
  private readonly nodesByName: ReadonlyMap<string, NodeSpec>;
  private readonly workloadsByNode = new Map<string, WorkloadKind>();
  private readonly hostByNode: ReadonlyMap<string, string>;

  /** Build it with `loadLab()` or `new Lab(parseTopology(input))`: a Lab assumes a validated topology. */
  constructor(topology: Topology) {
    this.topology = topology;
    this.servers = topology.nodes.filter((node) => node.role === "server");
    this.gateway = networkGateway(topology);
    const publishName = publishNodeName(topology)!;
    this.publishNode = topology.nodes.find((node) => node.name === publishName)!;
    for (const instance of serviceInstances(topology)) {
      const list = this.instancesByNode.get(instance.node) ?? [];
      list.push(instance);
      this.instancesByNode.set(instance.node, list);
    }
    this.nodesByName = new Map(topology.nodes.map((node) => [node.name, node]));
    this.hostByNode = placeNodes(topology).hostOf;
    // A node runs the workload of its first service that plays a part in the site, or a placeholder page.
    for (const [nodeName, instances] of this.instancesByNode) {
      const kinds = instances.map((instance) => instanceWorkload(topology.site, instance.service));
      this.workloadsByNode.set(nodeName, kinds.find((kind) => kind !== undefined) ?? "placeholder");
    }
  }

  /**
   * The operator's maintenance switch, beside the watch's flag in the same folder: `on` sends the site to the sorry
   * server whatever the app servers' health. The watch handler writes only the flag, from health, so it can never
   * undo an operator's maintenance; an operator (or the drill) writes only this key.
   */
  get operatorMaintenanceKey(): string {
    return `${maintenanceFolder(this.topology.site.maintenanceKey)}${OPERATOR_MAINTENANCE_SEGMENT}`;
  }

  /**
   * Which catalog instances may serve the site (see renderers/site-instances.ts), beside the flag in the same folder,
   * which consul-template may read. Terraform's consul stack writes it; no agent token may.
   */
  get siteInstancesKey(): string {
    return `${maintenanceFolder(this.topology.site.maintenanceKey)}${SITE_INSTANCES_SEGMENT}`;
  }

  /** Whether the lab runs with gossip encryption and ACLs ("secure"), or as the article's open Consul ("none"). */
  get secure(): boolean {
    return this.topology.security === "secure";
  }

  get nodes(): readonly NodeSpec[] {
    return this.topology.nodes;
  }

  node(name: string): NodeSpec {
    const found = this.nodesByName.get(name);
    if (!found) throw new Error(`no node named "${name}" in the topology`);
    return found;
  }

  /** The service instances registered by a node's agent, in topology order. */
  instancesOn(nodeName: string): readonly ServiceInstance[] {
    return this.instancesByNode.get(nodeName) ?? [];
  }

  /** The Docker hosts of a lab over several machines, in topology order; empty for a lab on one host. */
  get hosts(): readonly HostSpec[] {
    return this.topology.hosts ?? [];
  }

  /** Whether the lab spreads over several Docker hosts joined in a Swarm (a `hosts` list). */
  get multiHost(): boolean {
    return this.hosts.length > 0;
  }

  /** The host that runs a node's containers (topology/placement.ts); undefined for a lab on one host. */
  hostOf(nodeName: string): HostSpec | undefined {
    const name = this.hostByNode.get(nodeName);
    return name === undefined ? undefined : this.hosts.find((host) => host.name === name);
  }

  /** The nodes a host runs, in topology order. */
  nodesOn(hostName: string): NodeSpec[] {
    return this.nodes.filter((node) => this.hostByNode.get(node.name) === hostName);
  }

  /** The workloads the nodes of a host run, or of the whole lab when `hostName` is undefined. */
  workloadsOn(hostName?: string): Set<WorkloadKind> {
    const nodes = hostName === undefined ? this.nodes : this.nodesOn(hostName);
    return new Set(nodes.flatMap((node) => this.workloadOf(node.name) ?? []));
  }

  /**
   * On a lab over several hosts, where Swarm takes the addresses it allocates itself: one per host for the overlay's
   * own endpoint there, from the low end of its pool, where the nodes' static addresses are ("could not allocate IP
   * from IPAM: Address already in use", seen on real engines). The overlay's `ip_range`; undefined on one host.
   */
  get swarmAddressRange(): string | undefined {
    return this.multiHost ? swarmRangeOf(this.topology) : undefined;
  }

  /** The Swarm manager that creates the lab's overlay network; undefined for a lab on one host. */
  get managerHost(): HostSpec | undefined {
    return this.multiHost ? managerHost(this.hosts) : undefined;
  }

  /** Hosts that run more than one server, each with those servers: losing such a host loses all of their votes. */
  get hostsSharingServers(): { host: string; servers: string[] }[] {
    return this.hosts
      .map((host) => ({
        host: host.name,
        servers: this.nodesOn(host.name)
          .filter((n) => n.role === "server")
          .map((n) => n.name),
      }))
      .filter((entry) => entry.servers.length > 1);
  }

  /** The node's workload, or undefined when the node registers no service and runs the agent alone. */
  workloadOf(nodeName: string): WorkloadKind | undefined {
    return this.workloadsByNode.get(nodeName);
  }

  /** The nodes running a given workload, in topology order. */
  nodesRunning(kind: WorkloadKind): NodeSpec[] {
    return this.topology.nodes.filter((node) => this.workloadOf(node.name) === kind);
  }

  /** The node serving the site's entry point, if the topology has one. */
  get entryNode(): NodeSpec | undefined {
    return this.nodesRunning("entry")[0];
  }

  /** The port a role's service listens on (validation makes every definition of a role's service agree on it). */
  portOf(serviceName: string): number {
    const service = this.topology.services.find((candidate) => candidate.name === serviceName);
    if (!service) throw new Error(`no service named "${serviceName}" in the topology`);
    return service.port;
  }

  /**
   * The path a service's HTTP check requests, which its workload must answer itself;
   * undefined for a TCP check or an unknown service.
   */
  healthPathOf(serviceName: string): string | undefined {
    const service = this.topology.services.find((candidate) => candidate.name === serviceName);
    return service?.check.type === "http" ? checkPath(this.topology.site, service) : undefined;
  }

  /** The local agent's HTTP API as `host:port`, for consul-template, the watch handler and the Consul UI proxy. */
  get agentHttpAddress(): string {
    return `${NODE_LOOPBACK}:${this.topology.consul.ports.http}`;
  }

  /**
   * The host the deploying machine dials for the lab's published ports: `publish.address`, or loopback when that is
   * the wildcard 0.0.0.0 (every address of the host, loopback included).
   */
  get publishedHost(): string {
    const { address } = this.topology.publish;
    return address === "0.0.0.0" ? NODE_LOOPBACK : address;
  }

  /** Whether the lab publishes on the host's loopback (127.0.0.0/8, or the wildcard, which includes it). */
  get publishesOnLoopback(): boolean {
    return bindsLoopback(this.topology.publish.address);
  }

  /**
   * The Consul HTTP API as the deploying machine reaches it: `host:publish.httpPort`. In "secure" mode it is HTTPS,
   * with a server's certificate of the lab's CA (see apiScheme).
   */
  get publishedHttpAddress(): string {
    return `${this.publishedHost}:${this.topology.publish.httpPort}`;
  }

  /** How the API is spoken outside a node: HTTPS in "secure" mode, the article's plain HTTP in "none". */
  get apiScheme(): "https" | "http" {
    return this.secure ? "https" : "http";
  }

  /** The published API as a URL base, `https://127.0.0.1:8500` or `http://...`. */
  get publishedApiUrl(): string {
    return `${this.apiScheme}://${this.publishedHttpAddress}`;
  }

  /**
   * The name every server's TLS certificate carries and every agent checks (`verify_server_hostname`), so that a
   * client's certificate cannot make its holder a server: `server.<datacenter>.<domain>`.
   */
  get serverTlsName(): string {
    return `server.${this.topology.datacenter}.${this.topology.consul.domain}`;
  }

  /** The addresses agents join through: every server's. */
  get joinAddresses(): string[] {
    return this.servers.map((server) => server.address);
  }

  /** The Docker name of a lab object: `<lab>-<parts...>`. */
  dockerName(...parts: string[]): string {
    return [this.topology.name, ...parts].join("-");
  }
}
