/**
 * What the rendered lab and the tools that check it agree on, beyond the topology: names and paths that the renderers
 * write into the lab and that `verify` and the CLI read back. One place, so neither side can drift.
 */

/** Where the agent's data volume is mounted in its container. */
export const CONSUL_DATA_DIR = "/consul/data";

/**
 * Where the maintenance watch's handler appends a line for every flag it sets (the agent logs handler output at DEBUG
 * only): in the agent's data volume, which the agent's user may write. `npm run verify` shows its last lines.
 */
export const MAINTENANCE_HANDLER_LOG = `${CONSUL_DATA_DIR}/maintenance-flag.log`;

/** The ACL role `npm run verify` and `npm run repair` read the lab with (renderers/acl-policies.ts grants it). */
export const VERIFY_ROLE = "verify";

/** The key `verify` tries to write without a token, to see ACLs refuse it (and removes, should one let it). */
export const ANONYMOUS_WRITE_PROBE_KEY = "consul-lab/verify/anonymous-write-probe";

/**
 * The bridge network's driver options. Docker 27+ lets a daemon turn IPv6 on for every new network
 * (daemon.json `default-network-opts`), and provider v3.6.2 never sends `ipv6 = false` (resource_docker_network_funcs.go:46
 * takes it only when true), reads IPv6 back (:168) into a ForceNew attribute, and would replace the network, so the
 * lab, on every plan. The option, in the request, wins over the daemon's default for it (moby v27.0.1
 * daemon/network.go:306-328) and is read back exactly as sent (:631): stable on any engine. An overlay needs none:
 * Swarm enables IPv6 only when the request asks (moby v28.1.1 daemon/cluster/convert/network.go:193-203), and its
 * driver adds options of its own, which a declared map would then differ from.
 */
export const LAB_BRIDGE_OPTIONS: Readonly<Record<string, string>> = { "com.docker.network.enable_ipv6": "false" };

/**
 * How long one request to the site's entry may take before the drill counts it as failed (a user's "the site did not
 * answer"): what the failover below must fit in.
 */
export const SITE_REQUEST_TIMEOUT_MS = 2_000;

/**
 * How long nginx waits to connect to one upstream (the entry to a load balancer, a load balancer to an app server)
 * before it moves on to the next. A node whose host is lost answers no connection at all, neither accepts nor resets
 * (found by the twin lab's host-loss drill step, where 2 s here lost the request that hit the dead load balancer
 * first), so each hop waits this long once for it: both hops' waits must fit in one request's time with room left for
 * the answer. Inside one lab network a live upstream connects in well under a millisecond.
 */
export const PROXY_CONNECT_TIMEOUT_MS = 500;
