/**
 * `npm run verify -- --drill`: the article's experiment, timed. Each step
 * - checks where it starts (its preconditions), and fails without acting when the lab is not there;
 * - acts on the lab's own containers or on the operator's maintenance switch, recording when the action was sent and
 *   when it returned (the table shows the action's own time);
 * - then measures, in one poll loop once the action returned, when each expected state first held, counted from the
 *   action being sent, while the entry is asked continuously with a few requests in flight.
 * Everything it changes goes through the Restorer (drill-state.ts), which records it on disk first and puts it back
 * afterwards, also after a failure, a signal, or the process dying (`npm run verify -- --restore`).
 */
import type { Lab, WorkloadKind } from "../topology";
import type { ConsulApi } from "../runtime/consul-api";
import type { Restorer } from "./drill-state";
import { describeAnswer, describeFailures, EntryRequest, EntryWatch } from "./entry-watch";
import { LEADER_STILL_MS, passingAppServers } from "./facts";
import { readAutopilotHealth, serverBack, stableSinceByName } from "../runtime/autopilot";
import type { LabContainer, LabContainers } from "../runtime/lab-containers";
import { Condition, describeMeasurement, measure, Measurement } from "./measure";
import type { Progress } from "./progress";

export interface DrillRow {
  readonly step: string;
  readonly expected: string;
  readonly seen: string;
  /** Seconds from the step's action being sent until the expected state; undefined when it never came. */
  readonly seconds?: number;
  /** The measurement's resolution: the state came within `seconds ± resolution`. */
  readonly resolution?: number;
  readonly ok: boolean;
}

/** What the report's timeline draws for one step (see report-html.ts). */
export interface DrillTimeline {
  readonly step: string;
  /** Milliseconds since the epoch. */
  readonly actionSentAt: number;
  readonly actionReturnedAt: number;
  readonly deadlineAt: number;
  readonly requests: readonly EntryRequest[];
  /** When each expected state first held, in seconds from the action being sent. */
  readonly marks: readonly { readonly label: string; readonly seconds: number }[];
}

export interface DrillOptions {
  /** The longest any step waits, in seconds. @default 60 */
  readonly deadlineSeconds: number;
  /** How long the entry is watched while a load balancer is down. @default 10 */
  readonly windowSeconds: number;
  /** How often each in-flight worker asks the entry, and the poll interval, in milliseconds. @default 100 */
  readonly pollMs: number;
}

export interface DrillContext {
  readonly lab: Lab;
  readonly api: ConsulApi;
  readonly containers: LabContainers;
  readonly entryUrl: string;
  readonly progress: Progress;
  readonly options: DrillOptions;
  /** True once a signal asked the drill to stop. */
  readonly aborted: () => boolean;
}

interface StepResult {
  readonly rows: DrillRow[];
  readonly timeline?: DrillTimeline;
}

/** The addresses in the upstream a load balancer's nginx would load now (`nginx -T`: fails while a render is rejected). */
async function upstreamOf(context: DrillContext, lb: LabContainer): Promise<string[] | undefined> {
  const text = await context.containers.exec(lb, ["nginx", "-T"]);
  if (text === undefined) return undefined;
  const upstream = new RegExp(`upstream\\s+${context.lab.topology.site.service}\\s*\\{([^}]*)\\}`).exec(text);
  if (!upstream) return [];
  return [...upstream[1].matchAll(/^\s*server\s+([0-9.]+):\d+/gm)].map((match) => match[1]);
}

const entryServes =
  (watch: EntryWatch, kind: "app" | "sorry", from: number): Condition["check"] =>
  async () => {
    const latest = watch.latest();
    if (!latest || latest.sentAt < from) return "no answer yet";
    return latest.kind === kind ? true : describeAnswer(latest);
  };

/**
 * Holds once the entry has answered only with `kind`'s page for the sample window: the answers since the last other
 * one, all of that kind, spanning the window. One load balancer that did not switch keeps answering the other page
 * between them, and this never holds.
 */
const entryServesOnly =
  (context: DrillContext, watch: EntryWatch, kind: "app" | "sorry", from: number): Condition["check"] =>
  async () => {
    const answers = watch.since(from);
    let start = answers.length;
    while (start > 0 && answers[start - 1].kind === kind) start--;
    const run = answers.slice(start);
    if (run.length === 0) return answers.length === 0 ? "no answer yet" : describeAnswer(answers[answers.length - 1]);
    const held = run[run.length - 1].sentAt - run[0].sentAt;
    if (held >= context.options.windowSeconds * 1000) return true;
    const other = start > 0 ? `, after ${describeAnswer(answers[start - 1])}` : "";
    return `only ${kind} pages for ${(held / 1000).toFixed(1)} s${other}`;
  };

const flagReads =
  (context: DrillContext, value: "on" | "off"): Condition["check"] =>
  async () => {
    const seen = await context.api.kv(context.lab.topology.site.maintenanceKey);
    return (seen ?? "off") === value ? true : `flag ${seen ?? "<unset>"}`;
  };

const upstreamsList =
  (context: DrillContext, balancers: LabContainer[], addresses: string[]): Condition["check"] =>
  async () => {
    const lists = await Promise.all(balancers.map((lb) => upstreamOf(context, lb)));
    const same = (list: string[] | undefined) =>
      list !== undefined && list.length === addresses.length && list.every((address) => addresses.includes(address));
    return lists.every(same)
      ? true
      : lists.map((list) => (list === undefined ? "unreadable" : list.join(" ") || "empty")).join(" | ");
  };

/** Checks every precondition once; the ones that do not hold, with what was seen. */
async function unmet(conditions: Condition[]): Promise<string[]> {
  const answers = await Promise.all(
    conditions.map(async (condition) => {
      try {
        return await condition.check();
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  return answers.flatMap((answer, index) =>
    answer === true ? [] : [`${conditions[index].expected} (seen: ${answer})`],
  );
}

const rowOf = (step: string, measurement: Measurement, actionSeconds: number, extra = ""): DrillRow => ({
  step,
  expected: measurement.expected,
  seen: `${describeMeasurement(measurement, actionSeconds)}${extra}`,
  seconds: measurement.seconds,
  resolution: measurement.resolution,
  ok: measurement.seconds !== undefined,
});

/**
 * The skeleton every step shares: preconditions, the action (timed), one measured poll loop from its return, the
 * entry watched throughout, and a row saying how many requests failed in the whole window.
 */
async function timedStep(
  context: DrillContext,
  step: string,
  spec: {
    preconditions: (watch: EntryWatch) => Condition[];
    action: () => Promise<void>;
    conditions: (watch: EntryWatch, from: number) => Condition[];
    /** The entry must keep answering: every request from the action on is an app or sorry page. */
    entryMustAnswer?: string;
  },
): Promise<StepResult> {
  const { options } = context;
  const watch = new EntryWatch(context.entryUrl, options.pollMs);
  try {
    // A first answer for the preconditions that read the entry.
    const ready = Date.now();
    await measure(
      [{ expected: "an answer at the entry", check: async () => (watch.latest() ? true : "none") }],
      ready,
      {
        deadlineMs: 5_000,
        pollMs: options.pollMs,
      },
    );
    if (context.aborted()) return { rows: [] };
    const missing = await unmet(spec.preconditions(watch));
    if (missing.length > 0) {
      return {
        rows: [
          { step, expected: "the lab is where this step starts", seen: `not so: ${missing.join("; ")}`, ok: false },
        ],
      };
    }
    // A signal during the preconditions: the restore has begun, and this step must not act any more.
    if (context.aborted()) return { rows: [] };
    const sentAt = Date.now();
    await spec.action();
    const returnedAt = Date.now();
    // Counted from the send: what happens while Docker is still returning happens after 0 s, not before it.
    const measured = await measure(spec.conditions(watch, sentAt), sentAt, {
      deadlineFrom: returnedAt,
      deadlineMs: options.deadlineSeconds * 1000,
      pollMs: options.pollMs,
      aborted: context.aborted,
      onTick: (seconds, waiting) => context.progress.tick(step, seconds, waiting),
    });
    context.progress.done();
    await watch.stop();
    const actionSeconds = (returnedAt - sentAt) / 1000;
    const actionTook = `; the action took ${actionSeconds.toFixed(1)} s`;
    // A signal cut the measuring short: what had not happened by then was not given its deadline.
    const cut = context.aborted();
    const rows = measured.map((measurement, index) =>
      cut && measurement.seconds === undefined
        ? { step, expected: measurement.expected, seen: `interrupted (last: ${measurement.last})`, ok: false }
        : rowOf(step, measurement, actionSeconds, index === 0 ? actionTook : ""),
    );
    if (spec.entryMustAnswer) {
      const failures = describeFailures(watch, sentAt);
      rows.push({
        step,
        expected: spec.entryMustAnswer,
        seen: `${failures.text} (neither an app nor the sorry page, from the action being sent to the step's end)`,
        ok: failures.failed === 0 && failures.total > 0,
      });
    }
    return {
      rows,
      timeline: {
        step,
        actionSentAt: sentAt,
        actionReturnedAt: returnedAt,
        deadlineAt: returnedAt + options.deadlineSeconds * 1000,
        requests: [...watch.requests],
        marks: measured.flatMap((m) => (m.seconds === undefined ? [] : [{ label: m.expected, seconds: m.seconds }])),
      },
    };
  } finally {
    await watch.stop();
  }
}

async function appServers(context: DrillContext): Promise<LabContainer[]> {
  const all = await context.containers.list();
  return context.lab.nodesRunning("app").map((node) => {
    const found = all.find((container) => container.node === node.name && container.role === "app");
    if (!found) throw new Error(`no app container for ${node.name}`);
    return found;
  });
}

async function loadBalancers(context: DrillContext): Promise<LabContainer[]> {
  const all = await context.containers.list();
  return context.lab
    .nodesRunning("load-balancer")
    .flatMap((node) => all.filter((container) => container.node === node.name && container.role === "load-balancer"));
}

const addressesOf = (lab: Lab, kind: "app" | "sorry") => lab.nodesRunning(kind).map((node) => node.address);

/** What every load balancer's upstream lists while the app servers pass: the app servers, and the sorry server. */
const normalUpstream = (lab: Lab) => [...addressesOf(lab, "app"), ...addressesOf(lab, "sorry")];

/** The verdict on the entry of a step that changes who answers, but must never leave a request unanswered. */
const ENTRY_ANSWERS_EVERY_REQUEST = "the entry answers every request with the app or the sorry page";

const operatorSwitchOff =
  (context: DrillContext): Condition["check"] =>
  async () => {
    const value = await context.api.kv(context.lab.operatorMaintenanceKey);
    return value === "on" ? `${context.lab.operatorMaintenanceKey} is on` : true;
  };

async function stopAppServers(context: DrillContext, restorer: Restorer): Promise<StepResult> {
  const { lab } = context;
  const apps = await appServers(context);
  const balancers = await loadBalancers(context);
  const sorry = addressesOf(lab, "sorry");
  const normal = normalUpstream(lab);
  return timedStep(context, `stop every app server (${apps.map((app) => app.node).join(", ")})`, {
    preconditions: (watch) => [
      { expected: "the entry serves an app server's page", check: entryServes(watch, "app", 0) },
      { expected: "the flag reads off", check: flagReads(context, "off") },
      { expected: "the operator's switch is off", check: operatorSwitchOff(context) },
      {
        expected: "every load balancer's upstream lists the app servers",
        check: upstreamsList(context, balancers, normal),
      },
    ],
    action: async () => {
      await Promise.all(apps.map((app) => restorer.stop(app)));
    },
    conditions: (watch, from) => [
      { expected: "the entry serves the sorry page", check: entryServes(watch, "sorry", from) },
      { expected: `${lab.topology.site.maintenanceKey} reads on`, check: flagReads(context, "on") },
      {
        expected: "every load balancer's upstream lists only the sorry server",
        check: upstreamsList(context, balancers, sorry),
      },
    ],
    entryMustAnswer: ENTRY_ANSWERS_EVERY_REQUEST,
  });
}

async function startAppServers(context: DrillContext, restorer: Restorer): Promise<StepResult> {
  const { lab } = context;
  const apps = await appServers(context);
  const balancers = await loadBalancers(context);
  const normal = normalUpstream(lab);
  return timedStep(context, "start the app servers again", {
    preconditions: () => [
      {
        expected: "the app servers are stopped",
        check: async () => {
          const running = (await appServers(context)).filter((app) => app.running);
          return running.length === 0 ? true : `${running.map((app) => app.name).join(", ")} running`;
        },
      },
    ],
    action: async () => {
      await Promise.all(apps.map((app) => restorer.start(app)));
    },
    conditions: (watch, from) => [
      { expected: "the entry serves an app server's page", check: entryServes(watch, "app", from) },
      { expected: `${lab.topology.site.maintenanceKey} reads off`, check: flagReads(context, "off") },
      {
        expected: "every load balancer's upstream lists the app servers",
        check: upstreamsList(context, balancers, normal),
      },
    ],
    entryMustAnswer: ENTRY_ANSWERS_EVERY_REQUEST,
  });
}

/** Holds once the entry has been watched for the sample window, from the action being sent: a step measured by it. */
function windowWatched(context: DrillContext, from: number): Condition {
  return {
    expected: `${WINDOW_WATCHED} ${context.options.windowSeconds} s`,
    check: async () => (Date.now() - from >= context.options.windowSeconds * 1000 ? true : "watching"),
  };
}
const WINDOW_WATCHED = "the entry was watched for";

/** A step measured by its window keeps only its verdicts: the window's own row says nothing. */
const withoutWindowRow = (result: StepResult): StepResult => ({
  ...result,
  rows: result.rows.filter((row) => !row.expected.startsWith(WINDOW_WATCHED)),
});

/**
 * Autopilot's health of `nodes` while they are still up: a precondition that every one of them is healthy, which keeps
 * each one's StableSince in `before` for `backInAutopilot` to compare with.
 */
function healthyInAutopilot(api: ConsulApi, nodes: readonly string[], before: Map<string, string>): Condition {
  return {
    expected: `autopilot reports ${nodes.join(", ")} healthy`,
    check: async () => {
      const health = await readAutopilotHealth(api);
      const seen = nodes.map((node) => [node, serverBack(health, node, undefined)] as const);
      const not = seen.filter(([, back]) => back !== true);
      if (not.length > 0) return not.map(([node, why]) => `${node} ${why}`).join("; ");
      for (const [node, since] of stableSinceByName(health)) if (nodes.includes(node)) before.set(node, since);
      return true;
    },
  };
}

/**
 * Holds once a returned server is back as autopilot sees it: healthy, a voter, and seen to change since `before`. The
 * raft configuration alone would say "a voter" of a server still down (Consul keeps it there until autopilot removes
 * it).
 */
function backInAutopilot(api: ConsulApi, node: string, before: Map<string, string>): Condition {
  return {
    expected: `autopilot reports ${node} healthy and a voter, after seeing it go`,
    check: async () => serverBack(await readAutopilotHealth(api), node, before.get(node)),
  };
}

/** Holds once a server's own agent, asked inside its container, knows a leader. */
function knowsLeader(context: DrillContext, node: string, agent: LabContainer): Condition {
  return {
    expected: `${node} itself knows a leader`,
    check: async () => ((await leaderSeenBy(context, agent)) ? true : "no leader known"),
  };
}

/** Whether a step acted: one whose preconditions failed, or that was cut short before acting, has no timeline. */
const acted = (result: StepResult) => result.timeline !== undefined;

/** The row of a step that would undo `undone`'s action, which never happened: running it would pass at once. */
const notRunRow = (step: string, undone: string): DrillRow => ({
  step,
  expected: "the step it undoes acted",
  seen: `not run: "${undone}" did not act`,
  ok: false,
});

async function stopOneLoadBalancer(context: DrillContext, restorer: Restorer): Promise<StepResult> {
  const balancers = await loadBalancers(context);
  const [lb] = balancers;
  if (!lb) return { rows: [] };
  const result = await timedStep(context, `stop load balancer ${lb.node}`, {
    preconditions: (watch) => [
      {
        expected: "every load balancer runs",
        check: async () => ((await loadBalancers(context)).every((c) => c.running) ? true : "one is stopped"),
      },
      { expected: "the entry serves an app server's page", check: entryServes(watch, "app", 0) },
    ],
    action: () => restorer.stop(lb),
    conditions: (_watch, from) => [windowWatched(context, from)],
    entryMustAnswer: `the entry keeps answering with ${lb.node} down`,
  });
  await restorer.start(lb);
  // The window is the measure here, not a moment: keep only the verdict on the entry.
  return withoutWindowRow(result);
}

/** The leader's address as one server's agent sees it, asked inside its container (BusyBox wget, bounded). */
async function leaderSeenBy(context: DrillContext, agent: LabContainer): Promise<string> {
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
 * Whether every server's own agent names the same leader, on looks LEADER_STILL_MS apart: true, or what differs (a
 * flapping leader, or servers that disagree, is not where the leader's step starts).
 */
async function oneLeaderHoldingStill(context: DrillContext, agents: readonly LabContainer[]): Promise<true | string> {
  const first = await Promise.all(agents.map((agent) => leaderSeenBy(context, agent)));
  await new Promise((resolve) => setTimeout(resolve, LEADER_STILL_MS));
  const second = await Promise.all(agents.map((agent) => leaderSeenBy(context, agent)));
  const seen = [...first, ...second];
  if (seen[0] && seen.every((address) => address === seen[0])) return true;
  return `the servers saw ${first.map((address) => address || "none").join(", ")}, then ${second.map((address) => address || "none").join(", ")} ${LEADER_STILL_MS / 1000} s later`;
}

async function stopLeader(context: DrillContext, restorer: Restorer): Promise<StepResult[]> {
  const { lab, api } = context;
  const leaderAddress = (await api.get<string>("/v1/status/leader")).split(":")[0];
  const leader = lab.servers.find((server) => server.address === leaderAddress);
  const all = await context.containers.list();
  const agentOf = (node: string) => all.find((container) => container.node === node && container.role === "agent")!;
  if (!leader) {
    return [
      {
        rows: [
          {
            step: "stop the leader",
            expected: "a leader to stop",
            seen: `leader ${leaderAddress || "none"}`,
            ok: false,
          },
        ],
      },
    ];
  }
  const agent = agentOf(leader.name);
  // Asked through servers that stay up: the stopped one may be the node that publishes the API.
  const survivors = lab.servers.filter((server) => server.name !== leader.name).map((server) => agentOf(server.name));
  const stableBefore = new Map<string, string>();
  const stopped = await timedStep(context, `stop the leader server ${leader.name}`, {
    preconditions: (watch) => [
      {
        expected: "every server runs",
        check: async () => (lab.servers.every((server) => agentOf(server.name).running) ? true : "one is stopped"),
      },
      { expected: "the entry serves an app server's page", check: entryServes(watch, "app", 0) },
      healthyInAutopilot(
        api,
        lab.servers.map((server) => server.name),
        stableBefore,
      ),
      {
        expected: "every server sees one leader, holding still",
        check: async () =>
          oneLeaderHoldingStill(
            context,
            lab.servers.map((server) => agentOf(server.name)),
          ),
      },
    ],
    action: () => restorer.stop(agent),
    conditions: () => [
      {
        expected: "another server becomes leader",
        check: async () => {
          // Seen alike by the servers still up, on two looks: one server's passing view is no election.
          const looks: string[] = [];
          for (const server of [...survivors, ...survivors]) looks.push(await leaderSeenBy(context, server));
          const address = looks[0];
          if (!address || address === leader.address) return `leader ${address || "none"}`;
          return looks.every((look) => look === address) ? true : `servers see ${[...new Set(looks)].join(", ")}`;
        },
      },
    ],
    entryMustAnswer: "the entry keeps answering",
  });
  const again = `start ${leader.name} again`;
  if (!acted(stopped)) return [stopped, { rows: [notRunRow(again, stopped.rows[0]?.step ?? "stop the leader")] }];
  const rejoined = await timedStep(context, again, {
    preconditions: () => [
      {
        expected: `${agent.name} is stopped`,
        check: async () => ((await context.containers.running(agent)) ? "running" : true),
      },
    ],
    action: () => restorer.start(agent),
    conditions: () => [
      {
        expected: `${agent.name} runs`,
        check: async () => ((await context.containers.running(agent)) ? true : "not running"),
      },
      knowsLeader(context, leader.name, agent),
      backInAutopilot(api, leader.name, stableBefore),
    ],
  });
  return [stopped, rejoined];
}

/**
 * An operator's maintenance: the operator's switch (never the watch's flag, which follows health) set `on` sends the
 * site to the sorry server, and `off` back.
 */
async function operatorMaintenance(context: DrillContext, restorer: Restorer): Promise<StepResult[]> {
  const { lab } = context;
  const key = lab.operatorMaintenanceKey;
  const balancers = await loadBalancers(context);
  const upstream = { on: addressesOf(lab, "sorry"), off: normalUpstream(lab) };
  const results: StepResult[] = [];
  for (const [value, kind] of [
    ["on", "sorry"],
    ["off", "app"],
  ] as const) {
    // "off" measures the way back from a maintenance that took hold; after a failed "on" it has nothing to measure
    // and would pass at once. The switch is put back by the restore, at the drill's end, either way.
    if (value === "off" && results.some((result) => result.rows.some((row) => !row.ok))) {
      results.push({
        rows: [
          {
            step: `operator sets ${key} ${value}`,
            expected: "the site returns to the app servers",
            seen: `not run: the operator's "on" step failed, so there is no maintenance to come back from`,
            ok: false,
          },
        ],
      });
      continue;
    }
    results.push(
      await timedStep(context, `operator sets ${key} ${value}`, {
        preconditions: (watch) =>
          value === "on"
            ? [
                { expected: "the operator's switch is off", check: operatorSwitchOff(context) },
                { expected: "the entry serves an app server's page", check: entryServes(watch, "app", 0) },
              ]
            : [],
        action: () => restorer.setOperatorSwitch(key, value),
        conditions: (watch, from) => [
          {
            expected: `the entry serves ${kind === "app" ? "an app server's" : "the sorry"} page`,
            check: entryServes(watch, kind, from),
          },
          {
            // Every load balancer, not the first answer: one that ignores the switch still serves the other page.
            expected:
              value === "on"
                ? "every load balancer's upstream lists only the sorry server"
                : "every load balancer's upstream lists the app servers",
            check: upstreamsList(context, balancers, upstream[value]),
          },
          {
            expected: `the entry serves only ${kind === "app" ? "app servers'" : "the sorry"} pages for ${context.options.windowSeconds} s`,
            check: entryServesOnly(context, watch, kind, from),
          },
        ],
        entryMustAnswer: ENTRY_ANSWERS_EVERY_REQUEST,
      }),
    );
  }
  // The watch's flag was never touched: it still follows health.
  const passing = await passingAppServers(lab, context.api);
  results.push({
    rows: [
      {
        step: "after the operator's maintenance",
        expected: `${lab.topology.site.maintenanceKey} still follows health`,
        seen: `${(await context.api.kv(lab.topology.site.maintenanceKey)) ?? "<unset>"} with ${passing.length} passing`,
        ok: ((await context.api.kv(lab.topology.site.maintenanceKey)) ?? "off") === (passing.length > 0 ? "off" : "on"),
      },
    ],
  });
  return results;
}

/**
 * On a lab over several hosts, the host to lose: not the publish node's (whose ports the drill watches through) nor the
 * entry's, and one whose loss leaves a majority of the servers, a load balancer and a page to serve (an app or the
 * sorry server); undefined when no host qualifies.
 */
export function hostToLose(lab: Lab): string | undefined {
  const publishHost = lab.hostOf(lab.publishNode.name)?.name;
  const entryHost = lab.entryNode ? lab.hostOf(lab.entryNode.name)?.name : undefined;
  return lab.hosts
    .map((host) => host.name)
    .find((host) => {
      if (host === publishHost || host === entryHost || lab.nodesOn(host).length === 0) return false;
      const lost = new Set(lab.nodesOn(host).map((node) => node.name));
      const serversLeft = lab.servers.filter((server) => !lost.has(server.name)).length;
      const left = (...kinds: WorkloadKind[]) =>
        kinds.flatMap((kind) => lab.nodesRunning(kind)).filter((node) => !lost.has(node.name)).length;
      return serversLeft > lab.servers.length / 2 && left("load-balancer") > 0 && left("app", "sorry") > 0;
    });
}

/** The order a node's containers go down in (what joined the namespace first), and come back in reverse. */
const STOP_ORDER = (role: string) => (role === "netns" ? 2 : role === "agent" ? 1 : 0);

/**
 * A host lost, on a lab over several hosts: every container of one host stopped, as a power cut would. With the
 * servers spread, the cluster keeps a leader and the site keeps answering; then the host comes back, and its servers
 * are voters again.
 */
async function loseHost(context: DrillContext, restorer: Restorer): Promise<StepResult[]> {
  const { lab, api } = context;
  const host = hostToLose(lab);
  if (!host) {
    context.progress.line(
      "  no host can be lost without the publish node, a majority of servers or every load balancer; step left out",
    );
    return [];
  }
  const onHost = async () =>
    (await context.containers.list())
      .filter((container) => container.host === host)
      .sort((a, b) => STOP_ORDER(a.role) - STOP_ORDER(b.role));
  const containers = await onHost();
  const everyContainerRuns: Condition = {
    expected: `every container on ${host} runs`,
    check: async () => {
      const stopped = (await onHost()).filter((container) => !container.running);
      return stopped.length === 0 ? true : `${stopped.map((container) => container.name).join(", ")} stopped`;
    },
  };
  const lostServers = lab.nodesOn(host).filter((node) => node.role === "server");
  const lostAddresses = new Set(lostServers.map((server) => server.address));
  const stableBefore = new Map<string, string>();
  const lost = await timedStep(
    context,
    `lose host ${host} (${lab
      .nodesOn(host)
      .map((node) => node.name)
      .join(", ")})`,
    {
      preconditions: (watch) => [
        everyContainerRuns,
        { expected: "the entry serves an app server's page", check: entryServes(watch, "app", 0) },
        ...(lostServers.length > 0
          ? [
              healthyInAutopilot(
                api,
                lostServers.map((server) => server.name),
                stableBefore,
              ),
            ]
          : []),
      ],
      // One after another, in the order a host's shutdown stops them: what joined a namespace before the namespace.
      action: async () => {
        for (const container of containers) await restorer.stop(container);
      },
      conditions: (_watch, from) => [
        {
          expected: `the cluster has a leader on another host`,
          check: async () => {
            const leader = (await api.get<string>("/v1/status/leader")).split(":")[0];
            return leader && !lostAddresses.has(leader) ? true : `leader ${leader || "none"}`;
          },
        },
        windowWatched(context, from),
      ],
      entryMustAnswer: `the entry keeps answering with ${host} down`,
    },
  );
  const bringBack = `bring ${host} back`;
  if (!acted(lost)) return [withoutWindowRow(lost), { rows: [notRunRow(bringBack, lost.rows[0]?.step ?? host)] }];
  const agentOf = (node: string) =>
    containers.find((container) => container.node === node && container.role === "agent");
  const back = await timedStep(context, bringBack, {
    preconditions: () => [
      {
        expected: `every container on ${host} is stopped`,
        check: async () => {
          const running = (await onHost()).filter((container) => container.running);
          return running.length === 0 ? true : `${running.map((container) => container.name).join(", ")} running`;
        },
      },
    ],
    action: async () => {
      for (const container of [...containers].reverse()) await restorer.start(container);
    },
    conditions: () => [
      everyContainerRuns,
      ...lostServers.flatMap((server) => {
        const agent = agentOf(server.name);
        return [
          ...(agent ? [knowsLeader(context, server.name, agent)] : []),
          backInAutopilot(api, server.name, stableBefore),
        ];
      }),
    ],
  });
  // The window is the measure of the loss, not a moment: keep only the verdicts.
  return [withoutWindowRow(lost), back];
}

/** Every step, in order; a step that throws, or that does not find its starting state, ends the drill. */
export async function runDrill(
  context: DrillContext,
  restorer: Restorer,
  /** Where the rows go as each step ends, so a signal's report has the ones so far. */
  soFar: { rows: DrillRow[]; timelines: DrillTimeline[] } = { rows: [], timelines: [] },
): Promise<{ rows: DrillRow[]; timelines: DrillTimeline[] }> {
  const { rows, timelines } = soFar;
  type Step = [string, (context: DrillContext, restorer: Restorer) => Promise<StepResult | StepResult[]>];
  const steps: Step[] = [
    ["stop the app servers", stopAppServers],
    ["start the app servers", startAppServers],
    ["stop a load balancer", stopOneLoadBalancer],
    ["stop the leader", stopLeader],
    // Over several hosts only: one host's every container.
    ...(context.lab.multiHost ? [["lose a host", loseHost] as Step] : []),
    ["operator maintenance", operatorMaintenance],
  ];
  for (const [name, step] of steps) {
    if (context.aborted()) break;
    context.progress.line(`drill: ${name}`);
    let results: StepResult[];
    try {
      const result = await step(context, restorer);
      results = Array.isArray(result) ? result : [result];
    } catch (error) {
      results = [{ rows: [{ step: name, expected: "the step runs", seen: (error as Error).message, ok: false }] }];
    }
    for (const result of results) {
      for (const line of result.rows)
        context.progress.line(`  ${line.ok ? "PASS" : "FAIL"}  ${line.expected}: ${line.seen}`);
      for (const row of result.rows) rows.push(row);
      if (result.timeline) timelines.push(result.timeline);
    }
    if (
      results.some((result) =>
        result.rows.some((row) => !row.ok && row.expected === "the lab is where this step starts"),
      )
    )
      break;
    if (results.some((result) => result.rows.some((row) => row.expected === "the step runs"))) break;
  }
  return { rows, timelines };
}
