/**
 * What the Docker engine changes on its own in a container, and how each container of the lab keeps a plan after a
 * deploy empty anyway.
 *
 * The Docker provider (v3.6.2) reads a container back from `docker inspect` on every refresh, and an attribute that is
 * `ForceNew` replaces the container when what it reads differs from the configuration. The engine fills some of those
 * in itself: daemon defaults, a stopped container's state, runtime values. This table lists every `ForceNew`
 * attribute of `docker_container` at v3.6.2 (resource_docker_container.go) with what the provider's Read does with it
 * (resource_docker_container_funcs.go) and the rule the lab follows. read-back.test.ts checks every
 * container of several labs against it; `npm run test:engine` shows on a real engine what it says the engine does.
 */
import type { TerraformResource, TerraformResourceLifecycle } from "cdktf";

export type ReadBackRule =
  /** The engine changes it on its own: listed in `lifecycle.ignore_changes`. */
  | "ignore"
  /** Read back exactly as sent and never filled in by the engine: set it or leave it unset, both are stable. */
  | "exact"
  /** Computed from the image or the daemon when unset: leave it unset (an empty list would read back otherwise). */
  | "leave-unset"
  /** Never read back: only a change in the configuration replaces the container. */
  | "not-read";

export interface ReadBackEntry {
  readonly rule: ReadBackRule;
  /** Why, with the source that says so. */
  readonly why: string;
}

/**
 * Every ForceNew attribute of docker_container at provider v3.6.2, and every other one the lab sets whose read-back
 * the engine may change, with the lab's rule for it.
 */
export const CONTAINER_READ_BACK: Readonly<Record<string, ReadBackEntry>> = {
  log_opts: {
    rule: "ignore",
    why: "the daemon's default log-opts (daemon.json) are copied into every container at create (moby mergeAndVerifyLogConfig) and read back from HostConfig.LogConfig.Config; not Computed, so every plan would replace every container (fixed upstream only in v4.1.0)",
  },
  ulimit: {
    rule: "ignore",
    why: "an engine that merges the daemon's default-ulimits into HostConfig.Ulimits (Docker 20.10 does; shown by npm run test:engine) has them read back; not Computed",
  },
  ports: {
    rule: "ignore",
    why: "read from NetworkSettings.Ports, which the engine empties when the container stops or restarts; the provider's diff suppression gives up when the count changes, so a stopped node would be replaced with everything joined to it. A declared change still replaces the container, through a trigger over the declared ports",
  },
  domainname: {
    rule: "leave-unset",
    why: "a container joined with container: takes its namespace's domainname at start; none of ours sets one",
  },
  hostname: { rule: "exact", why: "Computed; set on namespaces and read back as sent, inherited by joined containers" },
  command: {
    rule: "exact",
    why: "Computed: the image's CMD when unset, and a non-empty list as sent; never an empty list, which reads back as the image's",
  },
  entrypoint: { rule: "exact", why: "as command, with the image's ENTRYPOINT" },
  user: {
    rule: "leave-unset",
    why: "the image's USER is read back; the provider suppresses the diff only while unset",
  },
  working_dir: { rule: "leave-unset", why: "the image's WORKDIR is read back; suppressed only while unset" },
  security_opts: {
    rule: "exact",
    why: "Computed, and read back from HostConfig.SecurityOpt as sent (no-new-privileges:true); the daemon's own seccomp, AppArmor and no-new-privileges defaults go into the OCI spec, not there (npm run test:engine)",
  },
  runtime: { rule: "leave-unset", why: "Computed from the daemon's default-runtime" },
  stop_signal: { rule: "leave-unset", why: "Computed from the image's STOPSIGNAL" },
  stop_timeout: { rule: "leave-unset", why: "Computed" },
  shm_size: { rule: "leave-unset", why: "Computed from the daemon's default-shm-size" },
  log_driver: { rule: "leave-unset", why: "Computed from the daemon's log-driver" },
  ipc_mode: { rule: "leave-unset", why: "Computed from the daemon's default-ipc-mode" },
  name: { rule: "exact", why: "read back as sent (without Docker's leading /)" },
  image: { rule: "exact", why: "read back as sent: our image IDs (sha256:...) from Config.Image's ID" },
  dns: { rule: "exact", why: "the daemon's dns setting goes into resolv.conf, never into HostConfig.DNS" },
  dns_opts: { rule: "exact", why: "as dns" },
  dns_search: { rule: "exact", why: "as dns" },
  network_mode: { rule: "exact", why: "stored verbatim (bridge, or container:<id>)" },
  read_only: { rule: "exact", why: "HostConfig.ReadonlyRootfs, as sent" },
  publish_all_ports: { rule: "exact", why: "as sent" },
  privileged: { rule: "exact", why: "as sent" },
  pid_mode: { rule: "exact", why: "as sent" },
  userns_mode: { rule: "exact", why: "as sent; userns-remap does not write it" },
  tty: { rule: "exact", why: "as sent" },
  stdin_open: { rule: "exact", why: "as sent" },
  capabilities: {
    rule: "exact",
    why: "read only when CapAdd or CapDrop is set (default capabilities live in the OCI spec), verbatim from HostConfig, where the engine stores each name as the API sent it (the Docker CLI, not the engine, turns chown into CAP_CHOWN): written as CAP_* and ALL (container-hardening.ts), as npm run test:engine checks through the API",
  },
  mounts: { rule: "exact", why: "HostConfig.Mounts; volumes go to Binds instead" },
  host: { rule: "exact", why: "HostConfig.ExtraHosts, as sent" },
  devices: { rule: "exact", why: "as sent" },
  sysctls: { rule: "exact", why: "daemon defaults go into the OCI spec only" },
  group_add: { rule: "exact", why: "as sent" },
  storage_opts: { rule: "exact", why: "daemon storage-opt merging is Windows-only" },
  gpus: { rule: "exact", why: "read only when device requests exist" },
  cpus: { rule: "exact", why: "read only when NanoCPUs > 0" },
  volumes: { rule: "not-read", why: "not read back (HostConfig.Binds is ignored)" },
  networks_advanced: { rule: "not-read", why: "only the computed network_data is read" },
  upload: { rule: "not-read", why: "not read back" },
  env: { rule: "not-read", why: "deliberately not read (the image's ENV would merge in)" },
  labels: { rule: "not-read", why: "deliberately not read (the image's LABELs would merge in)" },
  cgroupns_mode: { rule: "not-read", why: "not read back" },
  cgroup_parent: { rule: "not-read", why: "not read back" },
  // Not ForceNew, so a difference is an in-place update, which still makes a plan after a deploy non-empty.
  memory: {
    rule: "ignore",
    why: "read back as 0 on hosts without a memory cgroup, and an in-place update would send the ignored memory_swap with it (refused when the limit grows); a change replaces the container through a trigger over the limit instead (container-hardening.ts)",
  },
  memory_swap: {
    rule: "ignore",
    why: "the engine rewrites it: twice the memory when unset, and -1 on hosts without swap accounting whatever was sent (moby verifyPlatformContainerResources); replaced with memory",
  },
};

/** The attributes every container lists in `lifecycle.ignore_changes`, in the table's order. */
export const ENGINE_CHANGED_ATTRIBUTES: readonly string[] = Object.entries(CONTAINER_READ_BACK)
  .filter(([, entry]) => entry.rule === "ignore")
  .map(([attribute]) => attribute);

/**
 * A container's lifecycle: what the engine changes is ignored; `replaceWhen` replaces it when what is ignored
 * changes in the configuration (a trigger over the declared ports, say). Terraform wants each as a plain address
 * (`terraform_data.name`): cdktf would write a resource given as an object as `${terraform_data.name}`, which
 * `terraform validate` refuses (cdktf#3196).
 */
export function engineAwareLifecycle(replaceWhen: readonly TerraformResource[] = []): TerraformResourceLifecycle {
  return {
    ignoreChanges: [...ENGINE_CHANGED_ATTRIBUTES],
    ...(replaceWhen.length > 0
      ? {
          replaceTriggeredBy: replaceWhen.map(
            (resource) => `${resource.terraformResourceType}.${resource.friendlyUniqueId}`,
          ),
        }
      : {}),
  };
}
