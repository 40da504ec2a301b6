/**
 * The lab's topology: one serialisable description of everything the stacks build.
 * The schema checks the shape of each field; `validate.ts` checks how the fields relate.
 */
import { z } from "zod";
import { canonicalGoDuration, parseGoDuration } from "./go-duration";
import { CIDR_PATTERN, IPV4_PATTERN } from "./ipv4";

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// Consul's DNS interface separates tag, service and domain with '.', so names and tags may not contain one.
const CONSUL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
// Docker's rule for a name component of an image reference (the lab name prefixes built images, containers,
// volumes and the network): lowercase alphanumerics joined by '.', '_', '__' or runs of '-'.
const DOCKER_NAME = /^(?=.{1,40}$)[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// A DNS host name: labels of letters, digits and inner '-', joined by '.', 253 characters at most.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// An image reference in Docker's grammar (distribution/reference): an optional registry host, path components of
// lowercase alphanumerics joined by one '.', one or two '_' or any number of '-', then a tag of at most 128
// characters, a sha256, sha384 or sha512 digest, or both; an IPv6 registry host in brackets.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_NAME = `(?:${DOMAIN_HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const IMAGE_DIGEST = "sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}";
const IMAGE_REF = new RegExp(`^(${IMAGE_NAME})(?::[\\w][\\w.-]{0,127})?(?:@(?:${IMAGE_DIGEST}))?$`);
const PINNED_IMAGE = new RegExp(`(?::[\\w][\\w.-]{0,127}|@(?:${IMAGE_DIGEST}))$`);
/** Docker's limit on an image name: its host and path, without the tag or digest. */
const IMAGE_NAME_LIMIT = 255;
// What an HTTP check path may hold: unreserved characters and percent-escapes, nothing nginx or a URL parser reads
// as syntax (no space, ';', '{', '}', quote, '?', '#' or '$').
const HTTP_PATH = /^\/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2}){0,255}$/;
/** Consul's default `limits.kv_max_value_size`: a larger value is refused at apply time. */
const KV_VALUE_LIMIT = 512 * 1024;
const KV_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

function consulName(what: string) {
  return z.string().refine((name) => CONSUL_NAME.test(name), {
    error: (issue) =>
      String(issue.input).includes(".")
        ? `${what} "${issue.input}" contains '.', which Consul does not allow (DNS uses '.' between tag, service and domain); use '_' or '-' instead`
        : `${what} "${issue.input}" is not a valid Consul name: use 1-63 letters, digits, '_' or '-', starting with a letter or digit`,
  });
}

export const NodeName = z
  .string()
  .regex(DNS_LABEL, "node name must be a DNS label: 1-63 letters, digits or '-', not starting or ending with '-'");
export const Ipv4Address = z.string().regex(IPV4_PATTERN, "must be an IPv4 address such as 10.0.1.4");
export const Port = z
  .int("port must be a whole number")
  .min(1, "port must be 1-65535")
  .max(65535, "port must be 1-65535");
/**
 * The least memory each kind of container may be given, in MiB, and why: below it its programs are killed or cannot
 * start. Measured where the real program runs here (twin-lab.test.ts reads each container's peak after the drill and
 * keeps every floor at twice it or more); documented where it does not.
 */
export const MEMORY_FLOORS_MIB = {
  /** Consul, which cannot run here: HashiCorp measured a client agent at up to 87 MB (Consul on ECS, resource usage). */
  agent: { mib: 128, why: "a Consul agent uses up to 87 MB as a client (HashiCorp's measure), more as a server" },
  /** nginx, measured as the pages' (below), and consul-template, a Go program that cannot run here: 48 MiB for it. */
  loadBalancer: { mib: 64, why: "nginx and consul-template need that much" },
  /** nginx with one worker, measured (about 4 MiB at its peak, page cache included). */
  page: { mib: 16, why: "nginx and its worker need that much" },
  /** dnsmasq, measured (about 4 MiB at its peak, page cache included). */
  dns: { mib: 10, why: "dnsmasq needs that much" },
  /** A shell that sleeps, measured (about 4 MiB at its peak, page cache included); Docker refuses less than 6. */
  namespace: { mib: 10, why: "a sleeping shell and the page cache charged to it need that much" },
} as const;

/** A container's memory limit in MiB: at least its kind's floor, at most 64 GiB. */
const memoryMb = (kind: keyof typeof MEMORY_FLOORS_MIB) =>
  z
    .int("a memory limit must be a whole number of MiB")
    .min(
      MEMORY_FLOORS_MIB[kind].mib,
      `a memory limit must be at least ${MEMORY_FLOORS_MIB[kind].mib} MiB: ${MEMORY_FLOORS_MIB[kind].why}`,
    )
    .max(65536, "a memory limit must be at most 65536 MiB");
export const Duration = z
  .string()
  .refine(
    (text) => (parseGoDuration(text) ?? -1n) >= 0n,
    'must be a Go duration of at most 2562047h, such as "10s", "1.5s", "500ms" or "1m30s"',
  );
/** A duration that must be more than zero, such as a check's interval or timeout. */
export const PositiveDuration = Duration.refine((text) => (parseGoDuration(text) ?? 0n) > 0n, "must be longer than 0s");
/**
 * A duration a Terraform provider reads back in Go's printed form (`1m` as `1m0s`): kept in that form in the
 * effective topology, so the configuration equals what is read back and a plan stays empty.
 */
const ReadBackDuration = Duration.transform(canonicalGoDuration);
const ImageRef = z
  .string()
  .regex(
    IMAGE_REF,
    'must be an image reference in Docker\'s grammar, such as "nginx:1.27-alpine" or "registry.example:5000/team/nginx@sha256:<64 hex>": lowercase path components joined by "/", a tag of at most 128 letters, digits, "_", "." or "-"',
  )
  .regex(PINNED_IMAGE, 'must pin a tag or a digest, such as "nginx:1.27-alpine"')
  .refine(
    (ref) => (IMAGE_REF.exec(ref)?.[1].length ?? 0) <= IMAGE_NAME_LIMIT,
    `the image name (its host and path, before the tag or digest) may have at most ${IMAGE_NAME_LIMIT} characters`,
  )
  .refine((ref) => !ref.endsWith(":latest"), 'must pin a version: ":latest" makes deploys unrepeatable')
  .refine(
    (ref) => [Number(/^[^/]*:(\d+)\//.exec(ref)?.[1] ?? 1)].every((port) => port >= 1 && port <= 65535),
    "the registry's port must be 1-65535, such as registry.example:5000/team/nginx:1.27",
  );

/**
 * KV entries by path, checked entry by entry. A key such as `__proto__` stays an entry: nothing here assigns it (an
 * assignment would make it the object's prototype).
 */
const KvEntries = z
  .custom<Record<string, string>>(() => true)
  .superRefine((value, ctx) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      ctx.addIssue({
        code: "custom",
        message: "kv must map KV paths to string values, such as web/site/description: text",
      });
      return;
    }
    // Key by key, without an array of entries: a KV map may hold hundreds of thousands of them.
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const entry = (value as Record<string, unknown>)[key];
      if (!KV_PATH.test(key))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "KV keys are paths such as web/site/description (no leading '/')",
        });
      if (typeof entry !== "string")
        ctx.addIssue({ code: "custom", path: [key], message: "a KV value must be a string" });
      // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: only a long one needs counting.
      else if (entry.length * 3 > KV_VALUE_LIMIT && Buffer.byteLength(entry, "utf8") > KV_VALUE_LIMIT)
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `a KV value may hold at most ${KV_VALUE_LIMIT} bytes (Consul's default kv_max_value_size, 512 KiB)`,
        });
    }
  })
  // A plain object (JSON.parse's, YAML's) already holds every key, `__proto__` too, as its own entry: kept as it is,
  // without a second copy of a map that may be large. Anything else is copied into a plain one.
  .transform((value) =>
    [Object.prototype, null].includes(Object.getPrototypeOf(value)) ? value : Object.fromEntries(Object.entries(value)),
  );

export const NodeSchema = z.strictObject({
  /** The Consul node name, container hostname and DNS name (`<name>.node.consul`). */
  name: NodeName,
  /** Static address on the lab network; must lie inside `network.subnet`. */
  address: Ipv4Address,
  /** Servers hold the Raft state; clients only run services. */
  role: z.enum(["server", "client"], 'role must be "server" or "client"'),
  /**
   * The Docker host (a `hosts` entry's name) that runs this node's containers. Only with `hosts`.
   * @default servers on distinct hosts first, then the rest spread over the least loaded hosts (topology/placement.ts)
   */
  host: z.string().optional(),
});

// A host's name becomes a Terraform provider alias and part of resource IDs: a letter, then lowercase letters,
// digits or '-'.
const HOST_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
// An SSH endpoint as Docker's CLI takes it: ssh://[user@]host[:port], the host a name, an IPv4 or a bracketed IPv6.
const SSH_ENDPOINT = /^ssh:\/\/(?:[A-Za-z0-9._-]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$/;
// A TCP endpoint of a TLS-protected engine: tcp://host:port.
const TCP_ENDPOINT = /^tcp:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):[0-9]{1,5}$/;
// Docker's rule for a context name.
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

/**
 * One Docker engine of a lab spread over several hosts, which form one Docker Swarm. It is reached through exactly one
 * of `endpoint` and `context`, as the Docker CLI and the Terraform provider reach it.
 */
export const HostSchema = z.strictObject({
  /** Names the host in `nodes[].host`, the Terraform provider alias and the doctor's report. */
  name: z
    .string()
    .regex(
      HOST_NAME,
      "host name must be 1-32 lowercase letters, digits or '-', starting with a letter (it becomes a Terraform provider alias)",
    ),
  /** `ssh://[user@]host[:port]` (OpenSSH with your config) or `tcp://host:port` (TLS; needs `certPath`). */
  endpoint: z
    .string()
    .refine(
      (endpoint) =>
        (SSH_ENDPOINT.test(endpoint) || TCP_ENDPOINT.test(endpoint)) &&
        [Number(/:(\d+)$/.exec(endpoint)?.[1] ?? 1)].every((port) => port >= 1 && port <= 65535),
      'endpoint must be "ssh://[user@]host[:port]" or "tcp://host:port" (a TLS-protected engine, with certPath), with a port of 1-65535',
    )
    .optional(),
  /** A Docker CLI context (`docker context ls`) that points at the host. */
  context: z.string().regex(CONTEXT_NAME, "context must be a Docker context name, such as lab-a").optional(),
  /** For a `tcp://` endpoint: an absolute directory holding the engine's client TLS files ca.pem, cert.pem and key.pem. */
  certPath: z.string().optional(),
  /**
   * A Swarm manager: the lab's overlay network is created through the first host marked so.
   * @default false; when no host is marked, the first host is the manager
   */
  manager: z.boolean().optional(),
});

export const CheckSchema = z.strictObject({
  /** `http` expects a 2xx from `http://127.0.0.1:<port><path>`; `tcp` only expects the port to accept a connection. */
  type: z.enum(["http", "tcp"], 'check type must be "http" or "tcp"').default("http"),
  /**
   * Request path for `http` checks, as Consul sends it (verbatim): no dot segment, no `//`, no escape of a character
   * that needs none. @default "/" on a page; "/_health" on a load balancer or the entry, which answer it themselves
   */
  path: z
    .string()
    .regex(
      HTTP_PATH,
      "check path must be an HTTP path of at most 256 characters: '/' then letters, digits, '-', '.', '_', '~', '/' or %XX escapes (it goes into nginx and Consul configs verbatim)",
    )
    .optional(),
  interval: PositiveDuration.default("10s"),
  timeout: PositiveDuration.default("2s"),
});

export const ServiceSchema = z.strictObject({
  name: consulName("service name"),
  /** Instance ID, unique per node. @default the service name */
  id: consulName("service ID").optional(),
  tags: z.array(consulName("tag")).default([]),
  port: Port,
  /** The nodes that run an instance of this service. */
  nodes: z.array(NodeName).min(1, "a service needs at least one node"),
  check: CheckSchema.prefault({}),
});

export const TopologySchema = z.strictObject({
  /** Prefix of every Docker object the lab creates (network, containers, volumes). */
  name: z
    .string()
    .regex(
      DOCKER_NAME,
      "lab name must be 1-40 lowercase letters and digits, joined by single '.' or '_', '__', or '-' (Docker's image name rule), such as consul-lab",
    )
    .default("consul-lab"),
  /**
   * "secure": gossip encryption and ACLs with default deny, a least-privilege token per role.
   * "none": the article's wide-open Consul, for following it step by step; synth warns about it.
   */
  security: z.enum(["secure", "none"], 'security must be "secure" or "none"').default("secure"),
  datacenter: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}$/, "datacenter must be 1-64 lowercase letters, digits, '_' or '-'")
    .default("dc1"),
  network: z
    .strictObject({
      subnet: z
        .string()
        .regex(CIDR_PATTERN, 'subnet must be an IPv4 CIDR such as "10.0.1.0/24"')
        .default("10.0.1.0/24"),
      /** The Docker bridge's own address. @default the subnet's last usable address, so .1 stays free for a node */
      gateway: Ipv4Address.optional(),
      /**
       * On a lab over several hosts, the part of the subnet Swarm takes its own addresses from (one per host, for the
       * overlay's endpoint there); no node address may lie in it. Fixed, as changing it replaces the network.
       * @default the top quarter of the subnet, such as 10.0.1.192/26
       */
      swarmRange: z.string().regex(CIDR_PATTERN, 'swarmRange must be an IPv4 CIDR such as "10.0.1.192/26"').optional(),
    })
    .prefault({}),
  images: z
    .strictObject({
      consul: ImageRef.default("hashicorp/consul:1.20.6"),
      /** Serves every node's workload (app pages, the sorry page, placeholders). */
      nginx: ImageRef.default("nginx:1.27-alpine"),
      /**
       * Only its binary is used: it is copied into the load balancers' image, built on `nginx`. 0.43.0 and never lower:
       * the deploy-path review of this round (issue 35) reports HashiCorp's advisory HCSEC-2026-38 (September 2026)
       * fixing CVE-2026-87993 in 0.43.0. Not checked here (no registry): a stored mirror of consul-template may end at
       * v0.42.1, which is no reason to go back to it. The doctor checks that the tag resolves.
       */
      consulTemplate: ImageRef.default("hashicorp/consul-template:0.43.0"),
      /** Base of the DNS forwarders' image, built by the stack with Alpine's dnsmasq package. */
      dnsmasqBase: ImageRef.default("alpine:3.20"),
    })
    .prefault({}),
  /**
   * Memory limits of the lab's containers, in MiB, by what they run (each is a ceiling, not a reservation), each at
   * least its kind's floor (MEMORY_FLOORS_MIB).
   */
  containers: z
    .strictObject({
      memoryMb: z
        .strictObject({
          /** A Consul agent: a server holds the catalog and Raft log in memory. */
          agent: memoryMb("agent").default(256),
          /** A load balancer: nginx and consul-template. */
          loadBalancer: memoryMb("loadBalancer").default(128),
          /** An app, sorry, entry or placeholder page: nginx alone. */
          page: memoryMb("page").default(64),
          /** A node's dnsmasq. */
          dns: memoryMb("dns").default(32),
          /** A node's namespace container, a shell that sleeps. */
          namespace: memoryMb("namespace").default(16),
        })
        .prefault({}),
    })
    .prefault({}),
  consul: z
    .strictObject({
      logLevel: z.enum(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
      /** The DNS domain Consul answers for (`dev1001.node.consul`); dnsmasq forwards exactly this domain. */
      domain: z
        .string()
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "domain must be one lowercase DNS label, such as consul")
        .default("consul"),
      /** Upstream DNS servers for names outside `.consul`; empty because the lab also runs offline. */
      recursors: z.array(Ipv4Address).default([]),
      /**
       * The agents' ports inside each node. `http` listens on the node's loopback only; in "secure" mode the servers
       * also serve the API over TLS on `https`, which is what `publish.httpPort` reaches.
       */
      ports: z
        .strictObject({ http: Port.default(8500), https: Port.default(8501), dns: Port.default(8600) })
        .prefault({}),
      dns: z
        .strictObject({
          allowStale: z.boolean().default(true),
          maxStale: Duration.default("10s"),
          nodeTtl: Duration.default("0s"),
          serviceTtl: Duration.default("0s"),
        })
        .prefault({}),
    })
    .prefault({}),
  /** What the host can reach. Bound to loopback unless you say otherwise. */
  publish: z
    .strictObject({
      address: Ipv4Address.default("127.0.0.1"),
      /**
       * Publishing on an address other than loopback makes the lab reachable from the network: allowed in "secure"
       * mode only (the API is HTTPS then), and only when said explicitly. @default false
       */
      exposeOnNetwork: z.boolean().default(false),
      /**
       * The node whose Consul API and DNS ports are published; a server in "secure" mode (its certificate is the
       * lab CA's). @default the first server
       */
      node: NodeName.optional(),
      /** The host port of Consul's API and UI: HTTPS in "secure" mode, HTTP in "none". */
      httpPort: Port.default(8500),
      dnsPort: Port.default(8600),
      /** The site's single entry point (the article's VIP), served by the entry node. */
      entryPort: Port.default(8080),
    })
    .prefault({}),
  /** The web site the lab keeps answering, and which services play which part in it. */
  site: z
    .strictObject({
      hostname: z
        .string()
        .regex(HOSTNAME, "site hostname must be a DNS name such as test.hoge.dev.jp (it becomes nginx's server_name)")
        .default("test.hoge.dev.jp"),
      /** The service both the app servers and the sorry server register as. */
      service: consulName("site service").default("test_hoge_dev_jp"),
      appTag: consulName("tag").default("web"),
      sorryTag: consulName("tag").default("sorry"),
      maintenanceKey: z
        .string()
        .regex(KV_PATH, "maintenance key must be a KV path such as web/site/maintenance/key (no leading '/')")
        .default("web/test.hoge.dev.jp/maintenance/key"),
      loadBalancerService: consulName("service name").default("nginx"),
      entryService: consulName("service name").default("keepalived"),
      /** Virtual host on the load balancers that proxies the Consul UI and API. */
      consulUiHostname: z
        .string()
        .regex(
          HOSTNAME,
          "consulUiHostname must be a DNS name such as consul.hoge.dev.jp (it becomes nginx's server_name)",
        )
        .default("consul.hoge.dev.jp"),
    })
    .prefault({}),
  /** The dnsmasq on every node that forwards the Consul domain to the local agent. */
  dnsForwarder: z
    .strictObject({
      /** Names dnsmasq keeps; Consul's own TTLs (consul.dns.nodeTtl/serviceTtl) still bound how long. */
      cacheSize: z
        .int("cacheSize must be a whole number")
        .min(0, "cacheSize must be 0-10000")
        .max(10000, "cacheSize must be 0-10000")
        .default(1000),
    })
    .prefault({}),
  /** How consul-template on the load balancers follows the catalog. */
  consulTemplate: z
    .strictObject({
      logLevel: z.enum(["trace", "debug", "info", "warn", "err"]).default("info"),
      /** Followers may answer if their data is at most this old, so a lost leader does not stall the LBs. */
      maxStale: Duration.default("10m"),
      /** Quiescence: render once changes have settled for `min`, at the latest after `max`, so a flapping AP causes no reload storm. */
      wait: z.strictObject({ min: Duration.default("2s"), max: Duration.default("10s") }).prefault({}),
    })
    .prefault({}),
  /** Services outside the lab registered straight into the catalog, as the article's `vagrant`. */
  externalServices: z
    .array(
      z.strictObject({
        /** A catalog node with no agent behind it. */
        node: NodeName,
        address: Ipv4Address,
        service: consulName("service name"),
        port: Port.optional(),
        tags: z.array(consulName("tag")).default([]),
      }),
    )
    .default([{ node: "vagrant", address: "10.0.1.100", service: "vagrant", tags: [] }]),
  /** Raft housekeeping, so a replaced server leaves no ghost peer behind (the article's "No cluster leader"). */
  autopilot: z
    .strictObject({
      cleanupDeadServers: z.boolean().default(true),
      lastContactThreshold: ReadBackDuration.default("200ms"),
      maxTrailingLogs: z.int().min(1).default(250),
      serverStabilizationTime: ReadBackDuration.default("10s"),
    })
    .prefault({}),
  /**
   * KV entries Terraform owns (the Consul stack writes them). Never the maintenance flag: the running system owns it.
   */
  kv: KvEntries.default({
    "web/test.hoge.dev.jp/description": "test.hoge.dev.jp: app servers tagged web, sorry server tagged sorry",
  }),
  nodes: z.array(NodeSchema).min(1, "the lab needs nodes"),
  /**
   * The Docker hosts of a lab spread over several machines, which must form one Docker Swarm: the lab network becomes
   * an attachable overlay. Leave it out for a lab on one host (the local engine, DOCKER_HOST or the current context).
   */
  hosts: z
    .array(HostSchema)
    .min(
      2,
      "hosts lists at least two hosts; for one host leave hosts out and point DOCKER_HOST or a Docker context at it",
    )
    .optional(),
  services: z.array(ServiceSchema).default([]),
});

/** A topology as a user writes it: most fields may be left out. */
export type TopologyInput = z.input<typeof TopologySchema>;
/** A topology after defaults are applied. */
export type Topology = z.output<typeof TopologySchema>;
export type NodeSpec = Topology["nodes"][number];
export type HostSpec = NonNullable<Topology["hosts"]>[number];
export type ServiceSpec = Topology["services"][number];
export type CheckSpec = ServiceSpec["check"];
