/**
 * What each kind of container in the lab may do beyond computing: the Linux capabilities it keeps, whether its root
 * filesystem is read-only, and its memory ceiling. Every container drops every other capability and runs with
 * `no-new-privileges`, so no process in it gains a privilege through a setuid binary or file capabilities.
 *
 * No role keeps CAP_NET_BIND_SERVICE: since Docker 20.10 (the doctor's minimum) a container's network namespace lets
 * any process bind ports below 1024 (net.ipv4.ip_unprivileged_port_start=0), so nginx takes port 80 and dnsmasq 53
 * without it.
 *
 * Capabilities are written as `CAP_CHOWN`: the engine stores each name exactly as the API sends it, and the Docker
 * provider reads them back verbatim into a ForceNew attribute, so the form written is the form read. The Docker CLI,
 * not the engine, turns `chown` into `CAP_CHOWN`, which is the form `docker inspect` and the docs show
 * (engine-read-back.ts; `npm run test:engine` sends both forms through the API, as the provider does). The needs come from each image's own start-up: the
 * official Consul image's entrypoint chowns its data directory and drops to the `consul` user with su-exec; nginx's
 * master creates its temp directories for its workers' user and drops to it; dnsmasq drops to its own user.
 * `npm run test:engine` runs each with exactly these settings and sees it do its job.
 */
import type { ContainerConfig } from "@cdktf/provider-docker/lib/container";
import { DataResource, TerraformStack, type TerraformResource } from "cdktf";
import type { Construct } from "constructs";
import type { Lab } from "../topology";
import { NAMESPACE_ROLE } from "../shared/labels";

/** The capabilities any container of the lab may keep, as Docker stores them. */
export type Capability = "CAP_CHOWN" | "CAP_SETUID" | "CAP_SETGID";

/** What runs in a container, as labels.ts names its role. */
export type HardenedRole =
  typeof NAMESPACE_ROLE | "agent" | "dns" | "load-balancer" | "app" | "sorry" | "entry" | "placeholder";

interface RoleHardening {
  readonly capabilities: readonly Capability[];
  /** Only where nothing is written to the image's filesystem: the stack uploads configuration into the others. */
  readonly readOnlyRoot: boolean;
  readonly memory: keyof Lab["topology"]["containers"]["memoryMb"];
  /** Why it keeps what it keeps. */
  readonly why: string;
}

const NGINX: readonly Capability[] = ["CAP_CHOWN", "CAP_SETGID", "CAP_SETUID"];
const NGINX_WHY = "nginx's master creates its temp directories owned by its workers' user, and drops to that user";

/** Every role's settings. A role missing here does not compile. */
export const CONTAINER_HARDENING: Readonly<Record<HardenedRole, RoleHardening>> = {
  [NAMESPACE_ROLE]: {
    capabilities: [],
    readOnlyRoot: true,
    memory: "namespace",
    why: "a shell that sleeps and holds the node's network namespace; it needs nothing",
  },
  agent: {
    capabilities: ["CAP_CHOWN", "CAP_SETGID", "CAP_SETUID"],
    readOnlyRoot: false,
    memory: "agent",
    why: "the image's entrypoint chowns /consul/data to the consul user and su-execs to it; Consul's ports are above 1024",
  },
  dns: {
    capabilities: ["CAP_SETGID", "CAP_SETUID"],
    readOnlyRoot: false,
    memory: "dns",
    why: "dnsmasq drops to its own user",
  },
  // consul-template stays root: it is nginx's parent (exec mode), and nginx's master must start as root to make its
  // temp directories and drop its workers to their user; a non-root consul-template would need a non-root nginx.
  "load-balancer": { capabilities: NGINX, readOnlyRoot: false, memory: "loadBalancer", why: NGINX_WHY },
  app: { capabilities: NGINX, readOnlyRoot: false, memory: "page", why: NGINX_WHY },
  sorry: { capabilities: NGINX, readOnlyRoot: false, memory: "page", why: NGINX_WHY },
  entry: { capabilities: NGINX, readOnlyRoot: false, memory: "page", why: NGINX_WHY },
  placeholder: { capabilities: NGINX, readOnlyRoot: false, memory: "page", why: NGINX_WHY },
};

/** A container's hardening settings, for its role. */
export function containerHardening(
  lab: Lab,
  role: HardenedRole,
): Pick<ContainerConfig, "capabilities" | "securityOpts" | "readOnly" | "memory" | "memorySwap"> {
  const hardening = CONTAINER_HARDENING[role];
  const memory = lab.topology.containers.memoryMb[hardening.memory];
  return {
    capabilities: { drop: ["ALL"], ...(hardening.capabilities.length > 0 ? { add: [...hardening.capabilities] } : {}) },
    securityOpts: ["no-new-privileges:true"],
    ...(hardening.readOnlyRoot ? { readOnly: true } : {}),
    memory,
    // No swap beyond the limit.
    memorySwap: memory,
  };
}

/**
 * What replaces a container when its memory limit changes: one `terraform_data` per memory class in the stack,
 * holding the limit. The engine's read-back of `memory` and `memory_swap` is ignored (engine-read-back.ts): an
 * in-place update would send the new memory with the old swap, which the engine refuses when the limit grows, and a
 * host without a memory cgroup reads back 0. A replacement sends both.
 */
export function memoryLimitTrigger(scope: Construct, lab: Lab, role: HardenedRole): TerraformResource {
  const memoryClass = CONTAINER_HARDENING[role].memory;
  const stack = TerraformStack.of(scope);
  const id = `memory-limit-${memoryClass}`;
  const existing = stack.node.tryFindChild(id);
  if (existing) return existing as DataResource;
  const limit = lab.topology.containers.memoryMb[memoryClass];
  return new DataResource(stack, id, { input: { memoryMb: limit, memorySwapMb: limit } });
}
