/**
 * What the drill's steps wait for and start from: the entry's answers, the maintenance flag and the operator's switch,
 * every load balancer's upstream as nginx would load it, the leader as each server sees it, and autopilot's health.
 */
import type { Lab } from "../topology";
import type { ConsulApi } from "../runtime/consul-api";
import { readAutopilotHealth, serverBack, stableSinceByName } from "../runtime/autopilot";
import type { LabContainer } from "../runtime/lab-containers";
import { describeAnswer, EntryWatch } from "./entry-watch";
import { LEADER_STILL_MS } from "./facts";
import type { Condition } from "./measure";
import { HOLDS, notYet, type Verdict, verdict } from "../shared/verdict";
import type { DrillContext } from "./timed-step";

/** The addresses in the upstream a load balancer's nginx would load now (`nginx -T`: fails while a render is rejected). */
async function upstreamOf(context: DrillContext, lb: LabContainer): Promise<string[] | undefined> {
  const text = await context.containers.exec(lb, ["nginx", "-T"]);
  if (text === undefined) return undefined;
  const upstream = new RegExp(`upstream\\s+${context.lab.topology.site.service}\\s*\\{([^}]*)\\}`).exec(text);
  if (!upstream) return [];
  return [...upstream[1].matchAll(/^\s*server\s+([0-9.]+):\d+/gm)].map((match) => match[1]);
}

export const entryServes =
  (watch: EntryWatch, kind: "app" | "sorry", from: number): Condition["check"] =>
  async () => {
    const latest = watch.latest();
    if (!latest || latest.sentAt < from) return notYet("no answer yet");
    return verdict(latest.kind === kind, describeAnswer(latest));
  };

/**
 * Holds once the entry has answered only with `kind`'s page for the sample window: the answers since the last other
 * one, all of that kind, spanning the window. One load balancer that did not switch keeps answering the other page
 * between them, and this never holds.
 */
export const entryServesOnly =
  (context: DrillContext, watch: EntryWatch, kind: "app" | "sorry", from: number): Condition["check"] =>
  async () => {
    const answers = watch.since(from);
    let start = answers.length;
    while (start > 0 && answers[start - 1].kind === kind) start--;
    const run = answers.slice(start);
    if (run.length === 0)
      return notYet(answers.length === 0 ? "no answer yet" : describeAnswer(answers[answers.length - 1]));
    const held = run[run.length - 1].sentAt - run[0].sentAt;
    if (held >= context.options.windowSeconds * 1000) return HOLDS;
    const other = start > 0 ? `, after ${describeAnswer(answers[start - 1])}` : "";
    return notYet(`only ${kind} pages for ${(held / 1000).toFixed(1)} s${other}`);
  };

export const flagReads =
  (context: DrillContext, value: "on" | "off"): Condition["check"] =>
  async () => {
    const seen = await context.api.kv(context.lab.topology.site.maintenanceKey);
    return verdict((seen ?? "off") === value, `flag ${seen ?? "<unset>"}`);
  };

export const upstreamsList =
  (context: DrillContext, balancers: LabContainer[], addresses: string[]): Condition["check"] =>
  async () => {
    const lists = await Promise.all(balancers.map((lb) => upstreamOf(context, lb)));
    const same = (list: string[] | undefined) =>
      list !== undefined && list.length === addresses.length && list.every((address) => addresses.includes(address));
    return verdict(
      lists.every(same),
      lists.map((list) => (list === undefined ? "unreadable" : list.join(" ") || "empty")).join(" | "),
    );
  };

export async function appServers(context: DrillContext): Promise<LabContainer[]> {
  const all = await context.containers.list();
  return context.lab.nodesRunning("app").map((node) => {
    const found = all.find((container) => container.node === node.name && container.role === "app");
    if (!found) throw new Error(`no app container for ${node.name}`);
    return found;
  });
}

export async function loadBalancers(context: DrillContext): Promise<LabContainer[]> {
  const all = await context.containers.list();
  return context.lab
    .nodesRunning("load-balancer")
    .flatMap((node) => all.filter((container) => container.node === node.name && container.role === "load-balancer"));
}

export const addressesOf = (lab: Lab, kind: "app" | "sorry") => lab.nodesRunning(kind).map((node) => node.address);

/** What every load balancer's upstream lists while the app servers pass: the app servers, and the sorry server. */
export const normalUpstream = (lab: Lab) => [...addressesOf(lab, "app"), ...addressesOf(lab, "sorry")];

/** The verdict on the entry of a step that changes who answers, but must never leave a request unanswered. */
export const ENTRY_ANSWERS_EVERY_REQUEST = "the entry answers every request with the app or the sorry page";

export const operatorSwitchOff =
  (context: DrillContext): Condition["check"] =>
  async () => {
    const value = await context.api.kv(context.lab.operatorMaintenanceKey);
    return verdict(value !== "on", `${context.lab.operatorMaintenanceKey} is on`);
  };

/**
 * Autopilot's health of `nodes` while they are still up: a precondition that every one of them is healthy, which keeps
 * each one's StableSince in `before` for `backInAutopilot` to compare with.
 */
export function healthyInAutopilot(api: ConsulApi, nodes: readonly string[], before: Map<string, string>): Condition {
  return {
    expected: `autopilot reports ${nodes.join(", ")} healthy`,
    check: async () => {
      const health = await readAutopilotHealth(api);
      const seen = nodes.map((node) => [node, serverBack(health, node, undefined)] as const);
      const not = seen.flatMap(([node, back]) => (back.holds ? [] : [`${node} ${back.seen}`]));
      if (not.length > 0) return notYet(not.join("; "));
      for (const [node, since] of stableSinceByName(health)) if (nodes.includes(node)) before.set(node, since);
      return HOLDS;
    },
  };
}

/**
 * Holds once a returned server is back as autopilot sees it: healthy, a voter, and seen to change since `before`. The
 * raft configuration alone would say "a voter" of a server still down (Consul keeps it there until autopilot removes
 * it).
 */
export function backInAutopilot(api: ConsulApi, node: string, before: Map<string, string>): Condition {
  return {
    expected: `autopilot reports ${node} healthy and a voter, after seeing it go`,
    check: async () => serverBack(await readAutopilotHealth(api), node, before.get(node)),
  };
}

/** Holds once a server's own agent, asked inside its container, knows a leader. */
export function knowsLeader(context: DrillContext, node: string, agent: LabContainer): Condition {
  return {
    expected: `${node} itself knows a leader`,
    check: async () => verdict(Boolean(await leaderSeenBy(context, agent)), "no leader known"),
  };
}

/** The leader's address as one server's agent sees it, asked inside its container (BusyBox wget, bounded). */
export async function leaderSeenBy(context: DrillContext, agent: LabContainer): Promise<string> {
  const answer = await context.containers.exec(agent, [
    "wget",
    "-T",
    "2",
    "-qO-",
    `http://${context.lab.agentHttpAddress}/v1/status/leader`,
  ]);
  if (answer === undefined) return "";
  try {
    return String(JSON.parse(answer)).split(":")[0];
  } catch {
    return "";
  }
}

/**
 * Whether every server's own agent names the same leader, on looks LEADER_STILL_MS apart, or what differs (a
 * flapping leader, or servers that disagree, is not where the leader's step starts).
 */
export async function oneLeaderHoldingStill(context: DrillContext, agents: readonly LabContainer[]): Promise<Verdict> {
  const first = await Promise.all(agents.map((agent) => leaderSeenBy(context, agent)));
  await new Promise((resolve) => setTimeout(resolve, LEADER_STILL_MS));
  const second = await Promise.all(agents.map((agent) => leaderSeenBy(context, agent)));
  const seen = [...first, ...second];
  if (seen[0] && seen.every((address) => address === seen[0])) return HOLDS;
  return notYet(
    `the servers saw ${first.map((address) => address || "none").join(", ")}, then ${second.map((address) => address || "none").join(", ")} ${LEADER_STILL_MS / 1000} s later`,
  );
}
