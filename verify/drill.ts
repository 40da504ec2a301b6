/**
 * `npm run verify -- --drill`: the article's experiment, timed, as steps of the timed-step runner (timed-step.ts) on the
 * conditions of drill-conditions.ts. Each step
 * - checks where it starts (its preconditions), and fails without acting when the lab is not there;
 * - acts on the lab's own containers or on the operator's maintenance switch, recording when the action was sent and
 *   when it returned (the table shows the action's own time);
 * - then measures, in one poll loop once the action returned, when each expected state first held, counted from the
 *   action being sent, while the entry is asked continuously with a few requests in flight.
 * Everything it changes goes through the Restorer (drill-state.ts), which records it on disk first and puts it back
 * afterwards, also after a failure, a signal, or the process dying (`npm run verify -- --restore`).
 */
import type { Lab, WorkloadKind } from "../topology";
import {
  addressesOf,
  appServers,
  backInAutopilot,
  ENTRY_ANSWERS_EVERY_REQUEST,
  entryServes,
  entryServesOnly,
  flagReads,
  healthyInAutopilot,
  knowsLeader,
  leaderSeenBy,
  loadBalancers,
  normalUpstream,
  oneLeaderHoldingStill,
  operatorSwitchOff,
  upstreamsList,
} from "./drill-conditions";
import {
  acted,
  type DrillContext,
  type DrillRow,
  type DrillTimeline,
  notRunRow,
  type StepResult,
  timedStep,
  windowWatched,
  withoutWindowRow,
} from "./timed-step";
import type { Restorer } from "./drill-state";
import { passingAppServers } from "./facts";
import type { Condition } from "./measure";
import { notYet, verdict } from "../shared/verdict";

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
          return verdict(running.length === 0, `${running.map((app) => app.name).join(", ")} running`);
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

async function stopOneLoadBalancer(context: DrillContext, restorer: Restorer): Promise<StepResult> {
  const balancers = await loadBalancers(context);
  const [lb] = balancers;
  if (!lb) return { rows: [] };
  const result = await timedStep(context, `stop load balancer ${lb.node}`, {
    preconditions: (watch) => [
      {
        expected: "every load balancer runs",
        check: async () =>
          verdict(
            (await loadBalancers(context)).every((c) => c.running),
            "one is stopped",
          ),
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
        check: async () =>
          verdict(
            lab.servers.every((server) => agentOf(server.name).running),
            "one is stopped",
          ),
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
          if (!address || address === leader.address) return notYet(`leader ${address || "none"}`);
          return verdict(
            looks.every((look) => look === address),
            `servers see ${[...new Set(looks)].join(", ")}`,
          );
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
        check: async () => verdict(!(await context.containers.running(agent)), "running"),
      },
    ],
    action: () => restorer.start(agent),
    conditions: () => [
      {
        expected: `${agent.name} runs`,
        check: async () => verdict(await context.containers.running(agent), "not running"),
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
      return verdict(stopped.length === 0, `${stopped.map((container) => container.name).join(", ")} stopped`);
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
            return verdict(Boolean(leader) && !lostAddresses.has(leader), `leader ${leader || "none"}`);
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
          return verdict(running.length === 0, `${running.map((container) => container.name).join(", ")} running`);
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
