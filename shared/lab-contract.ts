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
