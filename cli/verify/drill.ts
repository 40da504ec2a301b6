/**
 * `npm run verify -- --drill`: the article's experiment, timed. Each step acts on the lab's own containers or the
 * maintenance flag, then measures, in seconds from the action, when the site and Consul show the expected state;
 * every container it stopped and the flag it changed are put back afterwards, also after a failure, Ctrl-C or SIGTERM.
 */
import { LOAD_BALANCER_PATHS } from "../../renderers";
import type { Lab } from "../../topology";
import type { ConsulApi } from "./consul-api";
import { fetchSitePage, passingAppServers, SitePage } from "./facts";
import type { LabContainer, LabContainers } from "./lab-containers";
import type { Progress } from "./progress";

export interface DrillRow {
  readonly step: string;
  readonly expected: string;
  readonly seen: string;
  /** Seconds from the step's action until the expected state; undefined when it never came. */
  readonly seconds?: number;
  readonly ok: boolean;
}

export interface DrillOptions {
  /** The longest any step waits, in seconds. @default 60 */
  readonly deadlineSeconds: number;
  /** How long the entry is watched while a load balancer is down. @default 10 */
  readonly windowSeconds: number;
  /** How often the entry is asked, in milliseconds. @default 100 */
  readonly pollMs: number;
}

export interface DrillContext {
  readonly lab: Lab;
  readonly api: ConsulApi;
  readonly containers: LabContainers;
  readonly entryUrl: string;
  readonly progress: Progress;
  readonly options: DrillOptions;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Undoes what the drill did: restarts what it stopped, puts the flag back. */
export class Restorer {
  private readonly stopped: LabContainer[] = [];
  private flag: { key: string; value: string | undefined } | undefined;

  constructor(
    private readonly containers: LabContainers,
    private readonly api: ConsulApi,
  ) {}

  stop(container: LabContainer): void {
    this.stopped.push(container);
    this.containers.stop(container);
  }

  start(container: LabContainer): void {
    this.containers.start(container);
    const index = this.stopped.findIndex((stopped) => stopped.name === container.name);
    if (index >= 0) this.stopped.splice(index, 1);
  }

  /** Remembers the flag's value before the drill first changes it. */
  rememberFlag(key: string, value: string | undefined): void {
    this.flag ??= { key, value };
  }

  flagRestored(): void {
    this.flag = undefined;
  }

  /** Puts everything back; returns one line per thing restored. */
  async restore(): Promise<string[]> {
    const lines: string[] = [];
    for (const container of [...this.stopped].reverse()) {
      try {
        this.containers.start(container);
        lines.push(`started ${container.name} again`);
      } catch (error) {
        lines.push(`could not start ${container.name}: ${(error as Error).message}`);
      }
    }
    this.stopped.length = 0;
    if (this.flag) {
      const { key, value } = this.flag;
      try {
        if (value === undefined) await this.api.deleteKv(key);
        else await this.api.putKv(key, value);
        lines.push(`set ${key} back to ${value ?? "<unset>"}`);
      } catch (error) {
        lines.push(`could not set ${key} back: ${(error as Error).message}`);
      }
      this.flag = undefined;
    }
    return lines;
  }
}

/** Waits until `check` says the state is reached; the seconds it took, or undefined at the deadline. */
async function waitFor(
  context: DrillContext,
  what: string,
  started: number,
  check: () => Promise<string | true>,
): Promise<{ seconds?: number; last: string }> {
  let last = "nothing yet";
  for (;;) {
    const seconds = (Date.now() - started) / 1000;
    try {
      const state = await check();
      if (state === true) {
        context.progress.done();
        return { seconds, last: "reached" };
      }
      last = state;
    } catch (error) {
      last = (error as Error).message;
    }
    if (seconds >= context.options.deadlineSeconds) {
      context.progress.done();
      return { last };
    }
    context.progress.tick(what, seconds, last);
    await sleep(context.options.pollMs);
  }
}

/** A wait's check: the maintenance flag reads `value`. */
function flagReads(context: DrillContext, value: "on" | "off"): () => Promise<string | true> {
  return async () => {
    const seen = await context.api.kv(context.lab.topology.site.maintenanceKey);
    return seen === value ? true : `flag ${seen ?? "<unset>"}`;
  };
}

/** A wait's check: the entry answers with an app server's page or the sorry page. */
function entryServes(context: DrillContext, kind: "app" | "sorry"): () => Promise<string | true> {
  return async () => {
    const page = await fetchSitePage(context.entryUrl);
    return page.kind === kind ? true : `${page.kind} page`;
  };
}

/** Asks the entry every pollMs until stopped; counts what was neither an app nor a sorry page. */
class EntryWatch {
  requests = 0;
  failed = 0;
  private running = true;
  private readonly loop: Promise<void>;
  latest: SitePage | undefined;

  constructor(private readonly context: DrillContext) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.requests++;
      try {
        this.latest = await fetchSitePage(this.context.entryUrl);
        if (this.latest.kind === "other") this.failed++;
      } catch {
        this.latest = undefined;
        this.failed++;
      }
      await sleep(this.context.options.pollMs);
    }
  }

  async stop(): Promise<string> {
    this.running = false;
    await this.loop;
    return `${this.failed} of ${this.requests} requests failed`;
  }
}

/** Runs `work` while the entry is watched; the watch stops whatever happens, so it never keeps the process alive. */
async function watchingEntry<T>(context: DrillContext, work: (watch: EntryWatch) => Promise<T>): Promise<T> {
  const watch = new EntryWatch(context);
  try {
    return await work(watch);
  } finally {
    await watch.stop();
  }
}

const row = (step: string, expected: string, result: { seconds?: number; last: string }, extra = ""): DrillRow => ({
  step,
  expected,
  seen:
    result.seconds === undefined
      ? `not by the deadline (last: ${result.last})`
      : `after ${result.seconds.toFixed(1)} s${extra}`,
  seconds: result.seconds,
  ok: result.seconds !== undefined,
});

/** The addresses in a load balancer's live upstream. */
async function upstreamOf(context: DrillContext, lb: LabContainer): Promise<string[] | undefined> {
  const text = await context.containers.exec(lb, ["cat", LOAD_BALANCER_PATHS.liveSite]);
  if (text === undefined) return undefined;
  return [...text.matchAll(/^\s*server\s+([0-9.]+):\d+/gm)].map((match) => match[1]);
}

async function stopAppServers(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const { lab, containers } = context;
  const apps = lab.nodesRunning("app").map((node) => containers.find(node.name, "app")!);
  const sorryAddresses = lab.nodesRunning("sorry").map((node) => node.address);
  const balancers = lab.nodesRunning("load-balancer").map((node) => containers.find(node.name, "load-balancer")!);
  const step = `stop every app server (${apps.map((app) => app.node).join(", ")})`;
  return watchingEntry(context, async (watch) => {
    const started = Date.now();
    for (const app of apps) restorer.stop(app);
    const sorry = await waitFor(context, "sorry page at the entry", started, async () =>
      watch.latest?.kind === "sorry" ? true : `${watch.latest?.kind ?? "no"} page`,
    );
    const flag = await waitFor(context, "flag on", started, flagReads(context, "on"));
    const upstream = await waitFor(context, "upstreams list only the sorry server", started, async () => {
      const lists = await Promise.all(balancers.map(async (lb) => (await upstreamOf(context, lb)) ?? []));
      return lists.every((list) => list.length > 0 && list.every((address) => sorryAddresses.includes(address)))
        ? true
        : lists.map((list) => list.join(" ")).join(" | ");
    });
    const requests = await watch.stop();
    return [
      row(step, "the entry serves the sorry page", sorry, `; ${requests}`),
      row(step, `${lab.topology.site.maintenanceKey} reads on`, flag),
      row(step, "every load balancer's upstream lists only the sorry server", upstream),
    ].map((result, index) => (index === 0 ? { ...result, ok: result.ok && watch.failed === 0 } : result));
  });
}

async function startAppServers(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const { lab, containers } = context;
  const apps = lab.nodesRunning("app").map((node) => containers.find(node.name, "app")!);
  const step = "start the app servers again";
  const started = Date.now();
  for (const app of apps) restorer.start(app);
  const page = await waitFor(context, "app page at the entry", started, entryServes(context, "app"));
  const flag = await waitFor(context, "flag off", started, flagReads(context, "off"));
  return [
    row(step, "the entry serves an app server's page", page),
    row(step, `${lab.topology.site.maintenanceKey} reads off`, flag),
  ];
}

async function stopOneLoadBalancer(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const [first] = context.lab.nodesRunning("load-balancer");
  if (!first) return [];
  const lb = context.containers.find(first.name, "load-balancer")!;
  const step = `stop load balancer ${first.name}`;
  return watchingEntry(context, async (watch) => {
    const started = Date.now();
    restorer.stop(lb);
    await waitFor(context, "watching the entry with one load balancer down", started, async () =>
      Date.now() - started >= context.options.windowSeconds * 1000 ? true : `${watch.failed} failed so far`,
    );
    const requests = await watch.stop();
    restorer.start(lb);
    return [
      {
        step,
        expected: `the entry keeps answering for ${context.options.windowSeconds} s`,
        seen: requests,
        seconds: context.options.windowSeconds,
        ok: watch.failed === 0 && watch.requests > 0,
      },
    ];
  });
}

async function stopLeader(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const { lab, containers, api } = context;
  const leaderAddress = (await api.get<string>("/v1/status/leader")).split(":")[0];
  const leader = lab.servers.find((server) => server.address === leaderAddress);
  if (!leader)
    return [
      { step: "stop the leader", expected: "a leader to stop", seen: `leader ${leaderAddress || "none"}`, ok: false },
    ];
  const agent = containers.find(leader.name, "agent")!;
  // Asked through a server that stays up: the stopped one may be the node that publishes the API.
  const witness = containers.find(lab.servers.find((server) => server.name !== leader.name)!.name, "agent")!;
  const step = `stop the leader server ${leader.name}`;
  return watchingEntry(context, async (watch) => {
    const started = Date.now();
    restorer.stop(agent);
    const elected = await waitFor(context, "new leader", started, async () => {
      const answer = await containers.exec(witness, [
        "wget",
        "-qO-",
        `http://${lab.agentHttpAddress}/v1/status/leader`,
      ]);
      const address = answer ? String(JSON.parse(answer)).split(":")[0] : "";
      return address && address !== leader.address ? true : `leader ${address || "none"}`;
    });
    const requests = await watch.stop();
    const restarted = Date.now();
    restorer.start(agent);
    // The next step talks to the published API, which may be this very server: wait until it knows a leader again.
    const rejoined = await waitFor(context, `${leader.name} rejoins`, restarted, async () => {
      const answer = await api.get<string>("/v1/status/leader");
      return answer ? true : "no leader known yet";
    });
    return [
      { ...row(step, "another server becomes leader", elected), seen: `${row(step, "", elected).seen}; ${requests}` },
      { step, expected: "the entry keeps answering", seen: requests, ok: watch.failed === 0 && watch.requests > 0 },
      row(`start ${leader.name} again`, "it rejoins and the API knows a leader", rejoined),
    ];
  });
}

async function operatorMaintenance(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const { lab, api } = context;
  const key = lab.topology.site.maintenanceKey;
  restorer.rememberFlag(key, await api.kv(key));
  const rows: DrillRow[] = [];
  for (const [value, kind] of [
    ["on", "sorry"],
    ["off", "app"],
  ] as const) {
    const started = Date.now();
    await api.putKv(key, value);
    const result = await waitFor(
      context,
      `${kind} page after setting the flag ${value}`,
      started,
      entryServes(context, kind),
    );
    rows.push(
      row(
        `operator sets ${key} ${value}`,
        `the entry serves ${kind === "app" ? "an app server's" : "the sorry"} page`,
        result,
      ),
    );
  }
  // Back to what the watch handler would write for the servers that pass now.
  const passing = await passingAppServers(lab, api);
  await api.putKv(key, passing.length > 0 ? "off" : "on");
  restorer.flagRestored();
  return rows;
}

/** Every step, in order; a step that throws ends the drill with a failing row, and the caller restores. */
export async function runDrill(context: DrillContext, restorer: Restorer): Promise<DrillRow[]> {
  const rows: DrillRow[] = [];
  const steps: [string, (context: DrillContext, restorer: Restorer) => Promise<DrillRow[]>][] = [
    ["stop the app servers", stopAppServers],
    ["start the app servers", startAppServers],
    ["stop a load balancer", stopOneLoadBalancer],
    ["stop the leader", stopLeader],
    ["operator maintenance", operatorMaintenance],
  ];
  for (const [name, step] of steps) {
    context.progress.line(`drill: ${name}`);
    try {
      const result = await step(context, restorer);
      for (const line of result)
        context.progress.line(`  ${line.ok ? "PASS" : "FAIL"}  ${line.expected}: ${line.seen}`);
      rows.push(...result);
    } catch (error) {
      rows.push({ step: name, expected: "the step runs", seen: (error as Error).message, ok: false });
      context.progress.line(`  FAIL  ${name}: ${(error as Error).message}`);
      break;
    }
  }
  return rows;
}
