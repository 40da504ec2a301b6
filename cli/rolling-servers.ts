/**
 * No apply takes the cluster down: when a plan of the cluster stack replaces more than one Consul server (new
 * certificates for all of them, a new Consul image, a new memory class), `npm run deploy` replaces them one at a
 * time, each with a targeted plan and apply of that node's objects, and waits after each until the cluster has taken it
 * back: the server a voter again, one leader that holds still, and autopilot healthy. The rest of the plan is applied
 * after the last. The publish node's server goes last: its API is the one the gate asks.
 */
import type { Lab } from "../topology";
import type { ConsulApi } from "../runtime/consul-api";
import { CliError } from "../runtime/process";
import { readAutopilotHealth, serverBack } from "../runtime/autopilot";

/** One resource change of `terraform show -json <plan>`. */
export interface PlannedChange {
  readonly address: string;
  readonly change?: { readonly actions?: readonly string[] };
}

/** The synthesized stack, as far as this reads it: each resource's construct path. */
export interface StackJson {
  readonly resource?: Record<
    string,
    Record<string, { readonly "//"?: { readonly metadata?: { readonly path?: string } } }>
  >;
}

/** Whether a change replaces its resource (Terraform's ["delete","create"] or ["create","delete"]). */
const replaces = (change: PlannedChange) => {
  const actions = change.change?.actions ?? [];
  return actions.includes("delete") && actions.includes("create");
};

/**
 * Every resource address of a node's objects: those whose construct path has the node's scope where the cluster puts
 * it, `<app>/<stack>/<node>/...`, or on a lab over several hosts `<app>/<stack>/host-<host>/<node>/...`. Only that
 * segment counts, so a node named like a construct (`agent`, say) never takes another node's objects.
 */
export function nodeAddresses(stack: StackJson, nodeName: string, multiHost = false): string[] {
  const addresses: string[] = [];
  for (const [type, byName] of Object.entries(stack.resource ?? {}))
    for (const [name, body] of Object.entries(byName)) {
      const segments = (body["//"]?.metadata?.path ?? "").split("/");
      if (segments[multiHost ? 3 : 2] === nodeName && segments.length > (multiHost ? 4 : 3))
        addresses.push(`${type}.${name}`);
    }
  return addresses.sort();
}

/** The servers a plan replaces something of, in the order they are rolled: the publish node's last. */
export function serversToRoll(lab: Lab, stack: StackJson, changes: readonly PlannedChange[]): string[] {
  const replaced = new Set(changes.filter(replaces).map((change) => change.address));
  const servers = lab.servers
    .map((server) => server.name)
    .filter((server) => nodeAddresses(stack, server, lab.multiHost).some((address) => replaced.has(address)));
  const publish = lab.publishNode.name;
  return [...servers.filter((server) => server !== publish), ...servers.filter((server) => server === publish)];
}

export interface GateOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly progress: (line: string) => void;
}

interface RaftConfiguration {
  readonly Servers?: readonly { readonly Node: string; readonly Voter: boolean }[];
}
/** What the gate saw on one look: undefined once everything holds, or what does not yet. */
async function notBackYet(api: ConsulApi, node: string, previousLeader: string | undefined) {
  const leader = await api.request<string>("GET", "/v1/status/leader");
  if (leader.status !== 200 || !leader.body) return { why: "no leader", leader: undefined };
  const raft = await api.request<RaftConfiguration>("GET", "/v1/operator/raft/configuration");
  if (!raft.body?.Servers?.some((server) => server.Node === node && server.Voter))
    return { why: `${node} is not a voter in the raft configuration`, leader: leader.body };
  const health = await readAutopilotHealth(api);
  // Not "seen to go first", as the drill asks (runtime/autopilot.ts): a replacement quicker than Serf's failure
  // detection is never seen unhealthy, on the twin lab as on Consul, and the gate would wait for ever.
  const back = serverBack(health, node, undefined);
  if (!back.holds) return { why: `autopilot: ${node} ${back.seen}`, leader: leader.body };
  if (!health.Healthy) return { why: "autopilot does not report the cluster healthy", leader: leader.body };
  // A leader that holds still: the same on two looks a poll apart.
  if (leader.body !== previousLeader)
    return { why: `the leader ${leader.body} has not held still yet`, leader: leader.body };
  return undefined;
}

/** Waits until a replaced server is back in the cluster (see the file's comment), or throws after the timeout. */
export async function waitForServerBack(api: ConsulApi, node: string, options: GateOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let leader: string | undefined;
  let lastWhy = "no answer yet";
  for (;;) {
    try {
      const seen = await notBackYet(api, node, leader);
      if (!seen) {
        options.progress(`${node} is back: a voter, leader ${leader} held still, autopilot healthy`);
        return;
      }
      lastWhy = seen.why;
      leader = seen.leader;
    } catch (error) {
      // The API itself goes away while the publish node's server is replaced.
      lastWhy = `the API does not answer (${(error as Error).message})`;
      leader = undefined;
    }
    if (Date.now() >= deadline)
      throw new CliError(
        `server ${node} was replaced but is not back in the cluster after ${Math.round(options.timeoutMs / 1000)} s (${lastWhy}); the other servers were left as they were: check with \`npm run verify\`, then run \`npm run deploy\` again`,
      );
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
