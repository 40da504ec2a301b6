/**
 * Rules that relate one field of a topology to another. Each returns problems; none stops at the first,
 * so a user sees everything wrong with a file in one run.
 */
import { goDurationMs } from "./go-duration";
import {
  bindsLoopback,
  intToIpv4,
  ipv4ToInt,
  isLoopbackAddress,
  isNetworkAddress,
  isUsableHost,
  parseCidr,
  Subnet,
} from "./ipv4";
import {
  answersOwnCheck,
  CLUSTER_SCOPE_IDS,
  CONSUL_FIXED_PORTS,
  DEFAULT_SELF_CHECK_PATH,
  maintenanceFolder,
  NODE_CONTAINER_SUFFIXES,
  OPERATOR_MAINTENANCE_SEGMENT,
  SITE_INSTANCES_SEGMENT,
  networkGateway,
  serviceInstances,
} from "./model";
import { checkHosts } from "./validate-hosts";
import {
  checkEntryPoint,
  checkSiteInstances,
  checkSiteRoles,
  checkSiteTags,
  checkWorkloadsPerNode,
} from "./validate-site";
import { checkPodListeners } from "./validate-listeners";
import { checkConsulCase } from "./validate-consul-case";
import type { Report, TopologyProblem } from "./problems";
import type { Topology } from "./schema";

export type { Report, TopologyProblem } from "./problems";

function checkNodes(topology: Topology, report: Report): void {
  const byName = new Map<string, number>();
  const byAddress = new Map<string, number>();
  topology.nodes.forEach((node, index) => {
    const key = node.name.toLowerCase();
    const first = byName.get(key);
    if (first === undefined) byName.set(key, index);
    else
      report(`nodes[${index}].name`, `duplicate "${node.name}" (also nodes[${first}]); every node needs its own name`);
    const sameAddress = byAddress.get(node.address);
    if (sameAddress === undefined) byAddress.set(node.address, index);
    else
      report(
        `nodes[${index}].address`,
        `duplicate "${node.address}" (also nodes[${sameAddress}].name "${topology.nodes[sameAddress].name}"); give each node its own address`,
      );
  });

  const servers = topology.nodes.filter((node) => node.role === "server").length;
  if (servers < 3 || servers % 2 === 0) {
    report(
      "nodes",
      `${servers} server(s) found; use an odd number of at least 3 (3, 5, 7): Raft needs a majority of servers (quorum) to elect a leader, ` +
        `so fewer than 3 cannot survive losing one, and an even count survives no more failures than one server fewer`,
    );
  }
}

/** The private IPv4 unicast ranges (RFC 1918): the only ones a lab network may take. */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** Whether a subnet lies wholly inside another. */
function within(inner: Subnet, outer: Subnet): boolean {
  return inner.network >= outer.network && inner.network + inner.size <= outer.network + outer.size;
}

function checkNetwork(topology: Topology, report: Report): void {
  const { subnet: cidr, gateway } = topology.network;
  const subnet = parseCidr(cidr);
  if (!isNetworkAddress(cidr)) {
    report(
      "network.subnet",
      `"${cidr}" is a host address; write the network address "${intToIpv4(subnet.network)}/${subnet.prefixLength}"`,
    );
  }
  if (subnet.prefixLength > 29) {
    report("network.subnet", `"${cidr}" is too small for a lab: use a prefix of /29 or shorter`);
    return;
  }
  const privateRange = PRIVATE_RANGES.find((range) => within(subnet, parseCidr(range)));
  if (!privateRange) {
    report(
      "network.subnet",
      `"${cidr}" is not inside a private range (${PRIVATE_RANGES.join(", ")}); a lab network elsewhere would shadow real addresses (or loopback, link-local, multicast) on the host. Use one such as 10.0.1.0/24`,
    );
  }
  topology.nodes.forEach((node, index) => {
    if (!isUsableHost(subnet, node.address)) {
      report(
        `nodes[${index}].address`,
        `"${node.address}" is not a usable address in network.subnet "${cidr}"; pick one inside it`,
      );
    }
  });
  const gatewayAddress = networkGateway(topology);
  if (gateway !== undefined && !isUsableHost(subnet, gateway)) {
    report("network.gateway", `"${gateway}" is not a usable address in network.subnet "${cidr}"`);
  }
  topology.nodes.forEach((node, index) => {
    if (node.address === gatewayAddress) {
      report(
        `nodes[${index}].address`,
        `"${node.address}" is the network's gateway; pick another address or set network.gateway to a free one`,
      );
    }
  });
}

/**
 * Why a check path is not in the one form Consul sends and nginx matches verbatim, or undefined when it is: a dot
 * segment or `//` that nginx normalizes away (answering 400 or another location), an escape of a character that
 * needs none, or of NUL.
 */
function unnormalizedPath(path: string): string | undefined {
  const segments = path.split("/").slice(1);
  if (segments.some((segment) => segment === "." || segment === ".."))
    return "has a '.' or '..' segment, which nginx resolves before matching; write the path it resolves to";
  if (path.includes("//")) return "has an empty segment ('//'), which nginx merges; write it with single slashes";
  for (const [escape] of path.matchAll(/%[0-9A-Fa-f]{2}/g)) {
    const code = parseInt(escape.slice(1), 16);
    if (code === 0) return "escapes NUL (%00), which no HTTP server accepts in a path";
    if (/[A-Za-z0-9._~-]/.test(String.fromCharCode(code)))
      return `escapes '${String.fromCharCode(code)}' (${escape}), which needs no escape and which nginx decodes before matching; write the character itself`;
  }
  return undefined;
}

/** A `.` or `..` segment of a KV path (tested per key, without splitting it: a KV map may be large). */
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/** Timeouts and intervals a check can keep: the bounds and why, in the message. */
const CHECK_TIMEOUT_MIN_MS = 1;
const CHECK_INTERVAL_MAX_MS = 24 * 3600 * 1000;

function checkDurationBounds(check: Topology["services"][number]["check"], at: string, report: Report): void {
  if (goDurationMs(check.timeout) < CHECK_TIMEOUT_MIN_MS) {
    report(`${at}.timeout`, `"${check.timeout}" is shorter than 1ms, which no check can answer in; use at least "1ms"`);
  }
  if (goDurationMs(check.interval) > CHECK_INTERVAL_MAX_MS) {
    report(
      `${at}.interval`,
      `"${check.interval}" is longer than 24h; Consul waits up to one interval (at random) before a check's first run, so the service would stay critical for that long; use at most "24h"`,
    );
  }
}

/** The paths of the site's own page (renderers/workload-site.ts serves index.html at the root). */
const SITE_PAGE_PATHS = ["/", "/index.html"];

function checkServices(topology: Topology, report: Report): void {
  const nodeNames = new Set(topology.nodes.map((node) => node.name));

  topology.services.forEach((service, index) => {
    const at = `services[${index}]`;
    const seenNodes = new Set<string>();
    service.nodes.forEach((node, nodeIndex) => {
      if (!nodeNames.has(node)) {
        report(`${at}.nodes[${nodeIndex}]`, `unknown node "${node}"; known nodes: ${[...nodeNames].join(", ")}`);
      }
      if (seenNodes.has(node)) report(`${at}.nodes[${nodeIndex}]`, `"${node}" is listed twice`);
      seenNodes.add(node);
    });
    const seenTags = new Set<string>();
    service.tags.forEach((tag, tagIndex) => {
      if (seenTags.has(tag)) report(`${at}.tags[${tagIndex}]`, `duplicate tag "${tag}"`);
      seenTags.add(tag);
    });
    const { check } = service;
    if (check.type === "tcp" && check.path !== undefined) {
      report(`${at}.check.path`, `a tcp check has no path; remove it or use type "http"`);
    }
    if (check.type === "http" && check.path !== undefined) {
      const why = unnormalizedPath(check.path);
      if (why) report(`${at}.check.path`, `"${check.path}" ${why}`);
      else if (answersOwnCheck(topology.site, service) && check.path.includes("%")) {
        report(
          `${at}.check.path`,
          `"${check.path}" has a %XX escape; "${service.name}" answers its check itself with nginx's exact-match location, which compares the decoded request with the escaped text and never matches (the check would reach the site instead); use a path without escapes such as ${DEFAULT_SELF_CHECK_PATH}`,
        );
      } else if (SITE_PAGE_PATHS.includes(check.path) && answersOwnCheck(topology.site, service)) {
        report(
          `${at}.check.path`,
          `"${check.path}" is a page of the site (${SITE_PAGE_PATHS.join(", ")}), which "${service.name}" would then answer itself ("ok") in its place; use a path of its own such as ${DEFAULT_SELF_CHECK_PATH} (the default)`,
        );
      }
    }
    if (goDurationMs(check.timeout) >= goDurationMs(check.interval)) {
      report(`${at}.check.timeout`, `"${check.timeout}" must be shorter than check.interval "${check.interval}"`);
    }
    checkDurationBounds(check, `${at}.check`, report);
  });

  const idsByNode = new Map<string, number>();
  for (const instance of serviceInstances(topology)) {
    const key = `${instance.node}\u0000${instance.id}`;
    const first = idsByNode.get(key);
    if (first === undefined) idsByNode.set(key, instance.serviceIndex);
    else if (first !== instance.serviceIndex)
      report(
        `services[${instance.serviceIndex}].id`,
        `instance ID "${instance.id}" is already registered on node "${instance.node}" by services[${first}]; set a distinct "id"`,
      );
  }
}

function checkPorts(topology: Topology, report: Report): void {
  const { consul, publish } = topology;
  if (consul.ports.http === consul.ports.dns)
    report("consul.ports.dns", `must differ from consul.ports.http (${consul.ports.http})`);
  for (const other of ["http", "dns"] as const) {
    if (consul.ports.https === consul.ports[other])
      report("consul.ports.https", `must differ from consul.ports.${other} (${consul.ports[other]})`);
  }
  for (const field of ["http", "https", "dns"] as const) {
    if (CONSUL_FIXED_PORTS.includes(consul.ports[field])) {
      report(`consul.ports.${field}`, `${consul.ports[field]} is taken by Consul's RPC and gossip (8300-8302)`);
    }
  }
  if (publish.httpPort === publish.dnsPort)
    report("publish.dnsPort", `must differ from publish.httpPort (${publish.httpPort})`);
  for (const field of ["httpPort", "dnsPort"] as const) {
    if (publish.entryPort === publish[field])
      report("publish.entryPort", `must differ from publish.${field} (${publish[field]}); each is its own host port`);
  }
  if (publish.node !== undefined) {
    const node = topology.nodes.find((candidate) => candidate.name === publish.node);
    if (!node) report("publish.node", `unknown node "${publish.node}"`);
    else if (topology.security === "secure" && node.role !== "server") {
      report(
        "publish.node",
        `"${publish.node}" is a client; in "secure" mode the API is published over HTTPS by a server, whose certificate the lab's CA signed (clients have none); name a server`,
      );
    }
  }
  checkExposure(topology, report);
}

/**
 * What `publish.address` exposes: on loopback, this machine only. Anything else publishes Consul's HTTP API (with
 * every API the management token reaches, and the UI), Consul DNS and the site's entry, whose UI vhost proxies the API
 * too, all in plain HTTP: refused unless the topology says it means it.
 */
function checkExposure(topology: Topology, report: Report): void {
  const { publish, network } = topology;
  const address = ipv4ToInt(publish.address);
  const lab = parseCidr(network.subnet);
  if (address >= lab.network && address < lab.network + lab.size) {
    report(
      "publish.address",
      `${publish.address} is inside the lab's subnet ${network.subnet}; publish on an address of the host, such as 127.0.0.1`,
    );
    return;
  }
  // 224.0.0.0 and above: multicast, reserved, and the limited broadcast 255.255.255.255.
  if (address >= ipv4ToInt("224.0.0.0")) {
    report(
      "publish.address",
      `${publish.address} is a multicast or broadcast address; publish on an address of the host, such as 127.0.0.1`,
    );
    return;
  }
  if (isLoopbackAddress(publish.address)) return;
  const secure = topology.security === "secure";
  // An open lab's UI vhost proxies the API through the entry; a secure lab's only redirects to the HTTPS API.
  const reachable = `Consul's API and UI on port ${publish.httpPort}, Consul DNS on ${publish.dnsPort}, and the site's entry on ${publish.entryPort} (whose Consul UI vhost ${secure ? "redirects to the HTTPS API" : "proxies the API too"})`;
  if (topology.security !== "secure") {
    report(
      "publish.address",
      `${publish.address} would publish the lab beyond this machine with no TLS and no ACLs (security "none"): ${reachable}. Use 127.0.0.1, or security "secure" with publish.exposeOnNetwork: true`,
    );
  } else if (publish.exposeOnNetwork && topology.consul.recursors.length > 0) {
    report(
      "publish.exposeOnNetwork",
      `with consul.recursors set, Consul DNS on ${publish.address}:${publish.dnsPort} would resolve any name for anyone who reaches it: an open resolver on the network. Remove consul.recursors, or publish on 127.0.0.1`,
    );
  } else if (!publish.exposeOnNetwork) {
    report(
      "publish.address",
      `${publish.address} publishes the lab beyond this machine: ${reachable}, to anyone who can reach this address (the API over HTTPS, behind ACLs; DNS and the entry in the clear). Use 127.0.0.1, or set publish.exposeOnNetwork: true if you mean it`,
    );
  }
}

function checkConsulStackInputs(topology: Topology, report: Report): void {
  const labNodes = new Set(topology.nodes.map((node) => node.name.toLowerCase()));
  const seen = new Set<string>();
  topology.externalServices.forEach((external, index) => {
    if (labNodes.has(external.node.toLowerCase())) {
      report(
        `externalServices[${index}].node`,
        `"${external.node}" is a lab node with an agent; an external service needs a node of its own`,
      );
    }
    if (seen.has(external.node.toLowerCase()))
      report(`externalServices[${index}].node`, `duplicate "${external.node}"`);
    seen.add(external.node.toLowerCase());
  });
  const key = topology.site.maintenanceKey;
  const segments = key.split("/");
  if (segments.length < 2) {
    report(
      "site.maintenanceKey",
      `"${key}" needs a folder (such as web/site/maintenance/key): consul-template may read the flag's folder, and a key without one would let it read every key`,
    );
  }
  if (segments.some((segment) => segment === "." || segment === "..")) {
    report("site.maintenanceKey", `"${key}" has a "." or ".." segment, which Consul's HTTP API redirects away from`);
  }
  for (const reserved of [OPERATOR_MAINTENANCE_SEGMENT, SITE_INSTANCES_SEGMENT]) {
    if (segments.at(-1) === reserved) {
      report(
        "site.maintenanceKey",
        `"${key}" ends in "${reserved}", the name of ${reserved === OPERATOR_MAINTENANCE_SEGMENT ? "the operator's switch" : "the site's instance list"} beside the flag; name the flag otherwise`,
      );
    }
  }
  const folder = maintenanceFolder(key);
  const operatorKey = `${folder}${OPERATOR_MAINTENANCE_SEGMENT}`;
  const instancesKey = `${folder}${SITE_INSTANCES_SEGMENT}`;
  for (const path of Object.keys(topology.kv)) {
    if (DOT_SEGMENT.test(path)) {
      report(
        `kv["${path}"]`,
        `has a "." or ".." segment: Consul's HTTP API redirects such a path, and the write never happens; use plain segments`,
      );
    }
    if (path === instancesKey) {
      report(
        `kv["${path}"]`,
        `is the site's instance list, which the lab writes itself from the topology; use another key`,
      );
    }
    if (path === operatorKey) {
      report(
        `kv["${path}"]`,
        `would let Terraform manage the operator's maintenance switch "${operatorKey}"; use another key`,
      );
    }
    if (path === key) {
      report(
        `kv["${path}"]`,
        `would let Terraform manage the maintenance flag "${key}", which the watch handler owns; use another key`,
      );
    }
  }
}

function checkConsulTemplate(topology: Topology, report: Report): void {
  const { wait } = topology.consulTemplate;
  if (goDurationMs(wait.min) > goDurationMs(wait.max)) {
    report("consulTemplate.wait.max", `"${wait.max}" must not be shorter than consulTemplate.wait.min "${wait.min}"`);
  }
}

/**
 * Every server's certificate carries `server.<datacenter>.<domain>` as its common name, which X.509 caps at 64
 * characters (RFC 5280 ub-common-name); openssl refuses a longer one when `npm run secrets` makes the certificates.
 */
function checkServerTlsName(topology: Topology, report: Report): void {
  if (topology.security !== "secure") return;
  const name = `server.${topology.datacenter}.${topology.consul.domain}`;
  if (name.length > 64)
    report(
      "datacenter",
      `the servers' certificate name ${name} is ${name.length} characters, and a certificate's common name holds at most 64 (RFC 5280); shorten datacenter or consul.domain`,
    );
}

/** The largest TTL a DNS answer may carry (RFC 2181 section 8: 2^31 - 1 seconds). */
const MAX_DNS_TTL_SECONDS = 2 ** 31 - 1;

function checkDns(topology: Topology, report: Report): void {
  // A recursor on the node itself is its own dnsmasq, which forwards to Consul again: a loop.
  const nodeAddresses = new Set(topology.nodes.map((node) => node.address));
  topology.consul.recursors.forEach((recursor, index) => {
    if (bindsLoopback(recursor) || nodeAddresses.has(recursor)) {
      report(
        `consul.recursors[${index}]`,
        `${recursor} is a lab node itself (its dnsmasq sends non-Consul names to Consul, which would send them back): name a DNS server outside the lab`,
      );
    }
  });
  topology.consul.recursors.forEach((recursor, index) => {
    // Nothing answers from these: a query sent there never comes back.
    const value = ipv4ToInt(recursor);
    if (value >= ipv4ToInt("224.0.0.0"))
      report(
        `consul.recursors[${index}]`,
        `${recursor} is a multicast, reserved or broadcast address, which no DNS server answers from; name a DNS server's own address`,
      );
  });
  // A DNS TTL is 32 bits of seconds, and at most 2^31-1 by RFC 2181 (section 8); Consul writes the duration's seconds.
  for (const field of ["nodeTtl", "serviceTtl"] as const) {
    const seconds = goDurationMs(topology.consul.dns[field]) / 1000;
    if (seconds > MAX_DNS_TTL_SECONDS)
      report(
        `consul.dns.${field}`,
        `"${topology.consul.dns[field]}" is ${Math.floor(seconds)} s, more than a DNS TTL can say (${MAX_DNS_TTL_SECONDS} s, RFC 2181 section 8); use a few seconds`,
      );
  }
  const { dns } = topology.consul;
  if (goDurationMs(dns.maxStale) === 0 && dns.allowStale) {
    report(
      "consul.dns.maxStale",
      `"${dns.maxStale}" disables stale reads; set a positive duration or allowStale: false`,
    );
  }
}

/** One relation between fields, checked once every field has its shape. */
export interface RelationRule {
  /** A short name, for the test that breaks each rule on purpose. */
  readonly id: string;
  /** What the rule asks, as docs/topology.md lists it. */
  readonly rule: string;
  /** Reports each problem it finds; `reported` holds the paths earlier rules already reported. */
  readonly check: (topology: Topology, report: Report, reported: ReadonlySet<string>) => void;
}

/**
 * Every relation validation checks, in the order it checks them. docs/topology.md lists exactly these lines
 * (documented-validation.test.ts compares them), and a test breaks each one and expects its refusal.
 */
export const RELATION_RULES = [
  {
    id: "nodes",
    rule: "every node has its own name (compared without case, as Consul does) and its own address",
    check: checkNodes,
  },
  {
    id: "hosts",
    rule: "over several hosts: each host named once and reached one way (`ssh://`, `tcp://` with TLS and an absolute `certPath`, or a context), one engine listed once, every node's `host` known, a server on a host of its own unless placed, and Swarm's address range clear of the nodes",
    check: checkHosts,
  },
  {
    id: "network",
    rule: "the subnet is a private network address with room for a lab, and every node's address is usable in it and off the gateway",
    check: checkNetwork,
  },
  {
    id: "services",
    rule: "services run on known nodes, once each, with their own tags and instance IDs; checks fit (a path only for HTTP, in the one form Consul sends and nginx matches, not a page of the site; a timeout shorter than the interval, at least 1 ms, an interval of at most 24 h)",
    check: checkServices,
  },
  { id: "site-tags", rule: "the site's app and sorry tags differ", check: checkSiteTags },
  {
    id: "site-roles",
    rule: "the site's three roles (its service, the load balancers', the entry's) name three existing services, each listening on one port",
    check: checkSiteRoles,
  },
  {
    id: "site-instances",
    rule: "every instance of the site's service is an app server or the sorry server, and there is at least one of each",
    check: checkSiteInstances,
  },
  { id: "entry", rule: "the entry point runs on exactly one node", check: checkEntryPoint },
  {
    id: "workloads",
    rule: "a node runs one workload, and a load balancer's or entry's node no other service",
    check: checkWorkloadsPerNode,
  },
  {
    id: "ports",
    rule: "Consul's ports differ from each other and from its RPC and gossip ports, the published ports from each other, the publish node exists, and a `publish.address` beyond loopback needs `publish.exposeOnNetwork` (and no open resolver)",
    check: checkPorts,
  },
  {
    id: "dns",
    rule: "Consul DNS settings can work: recursors are DNS servers' own addresses and no lab node, TTLs fit a DNS answer, stale reads have a positive limit",
    check: checkDns,
  },
  {
    id: "server-tls-name",
    rule: "the servers' certificate name `server.<datacenter>.<domain>` fits a certificate's 64 characters",
    check: checkServerTlsName,
  },
  {
    id: "consul-template",
    rule: "consul-template's `wait.max` is not shorter than `wait.min`",
    check: checkConsulTemplate,
  },
  {
    id: "consul-stack",
    rule: "external services sit on nodes of their own, once each, and are none of the site's; maintenance keys have a folder, no `.` or `..` segment, and do not end in `operator` or `instances`",
    check: checkConsulStackInputs,
  },
  {
    id: "reserved-names",
    rule: "no name collides with what the lab or Docker owns: a built-in network (`bridge`, `host`, `none`), a node named like another's container (`dev1004-net`), the cluster's own object names, a Consul UI host name that is the site's",
    check: checkReservedNames,
  },
  {
    id: "consul-case",
    rule: "service names, instance IDs and tags are compared as Consul compares them, without case (`Consul` is the servers' own service)",
    check: checkConsulCase,
  },
  {
    id: "pod-listeners",
    rule: "no two programs in one node's network namespace listen on one port, Consul's defaults included",
    check: (topology, report, reported) => checkPodListeners(topology, reported, report),
  },
] as const satisfies readonly RelationRule[];

/** Every cross-field problem in a topology whose fields already match the schema. */
export function crossFieldProblems(topology: Topology): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  for (const { check } of RELATION_RULES) check(topology, report, new Set(problems.map((problem) => problem.path)));
  return problems;
}

/** Docker's built-in networks: a lab network of one of these names would be a built-in network, not the lab's. */
const DOCKER_BUILT_IN_NETWORKS = ["bridge", "host", "none"];

/** Names that pass their field's pattern but collide with something the lab or its tools own. */
function checkReservedNames(topology: Topology, report: Report): void {
  const scopeIds: readonly string[] = Object.values(CLUSTER_SCOPE_IDS);
  topology.nodes.forEach((node, index) => {
    if (scopeIds.includes(node.name))
      report(
        `nodes[${index}].name`,
        `"${node.name}" is a name the cluster gives its own Terraform objects (${scopeIds.join(", ")}), beside which each node's objects are named after it; choose another`,
      );
    for (const other of topology.nodes) {
      const suffix = NODE_CONTAINER_SUFFIXES.find((candidate) => node.name === `${other.name}-${candidate}`);
      if (suffix) {
        report(
          `nodes[${index}].name`,
          `"${node.name}" would name its agent's container like the "${suffix}" container of node "${other.name}" (${topology.name}-${node.name}); choose a name that is not another node's name plus -${suffix}`,
        );
      }
    }
  });
  if (DOCKER_BUILT_IN_NETWORKS.includes(topology.name)) {
    report(
      "name",
      `"${topology.name}" is one of Docker's built-in networks (${DOCKER_BUILT_IN_NETWORKS.join(", ")}), and the lab's network takes the lab's name; choose another`,
    );
  }
  topology.services.forEach((service, index) => {
    if (service.name === "consul")
      report(
        `services[${index}].name`,
        `"consul" is the service every Consul server registers itself as; choose another`,
      );
  });
  topology.externalServices.forEach((external, index) => {
    if (external.service === "consul")
      report(
        `externalServices[${index}].service`,
        `"consul" is the service every Consul server registers itself as; choose another`,
      );
    for (const ownService of [topology.site.service, topology.site.loadBalancerService, topology.site.entryService]) {
      if (external.service === ownService) {
        report(
          `externalServices[${index}].service`,
          `"${ownService}" is a service of the site the lab runs itself; an external instance of it would join its load balancing`,
        );
      }
    }
  });
  if (topology.site.hostname.toLowerCase() === topology.site.consulUiHostname.toLowerCase()) {
    report(
      "site.consulUiHostname",
      `"${topology.site.consulUiHostname}" is also site.hostname: the Consul UI's virtual host and the site's would be one; give each its own name`,
    );
  }
}
