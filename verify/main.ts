/**
 * `npm run verify [-- --drill]`: proves a deployed lab works (one line per fact, with the value seen) and, with
 * --drill, runs the article's failover experiment and times it. Writes verify-report.json; exits 1 on any failure.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { SecretsError } from "../secrets";
import { loadLab, TopologyError } from "../topology";
import { labEngines } from "../runtime/lab-engines";
import { CliError, PROJECT_ROOT } from "../runtime/process";
import { type PublishedPorts, reachPublishedPorts } from "../runtime/published-ports";
import { LAB_LABEL } from "../shared/labels";
import { labApi } from "../runtime/lab-api";
import { runDrill } from "./drill";
import type { DrillRow, DrillTimeline } from "./timed-step";
import { DRILL_STATE_FILE, readDrillState, restoreInterruptedDrill, Restorer } from "./drill-state";
import { Fact, type VerifyContext, verifyLab } from "./facts";
import { LabContainers, leftAloneLine } from "../runtime/lab-containers";
import { deployedContainerIds } from "../runtime/deployed-containers";
import { Progress } from "./progress";
import { parseOptions, USAGE, UsageError, type VerifyOptions } from "./arguments";
import { REPORT_FILE, table, writeReport } from "./report";

/** How long a lab that is not right yet is asked again: a minute right after a deploy, else not at all. */
function defaultSettleSeconds(): number {
  const outputs = join(PROJECT_ROOT, "outputs.json");
  const fresh = existsSync(outputs) && Date.now() - statSync(outputs).mtimeMs < 10 * 60 * 1000;
  return fresh ? 60 : 0;
}

/** What verify is doing now: named in the report when the process would end without a verdict. */
let activity = "starting";

/** Asks the facts, again and again for up to `settleSeconds` while any fails (agents sync their tokens after a deploy). */
async function settledFacts(context: VerifyContext, settleSeconds: number, progress: Progress): Promise<Fact[]> {
  const started = Date.now();
  let facts = await verifyLab(context);
  while (facts.some((fact) => !fact.ok) && (Date.now() - started) / 1000 < settleSeconds) {
    const failing = facts.filter((fact) => !fact.ok).length;
    progress.tick("waiting for the lab to settle", (Date.now() - started) / 1000, `${failing} fact(s) not right yet`);
    // Each pass asks every node, so once a second is often enough to see the lab settle without crowding it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    facts = await verifyLab(context);
  }
  progress.done();
  return facts;
}

const printFacts = (facts: Fact[]) => {
  for (const fact of facts)
    console.log(`${fact.informational ? "info" : fact.ok ? "ok  " : "FAIL"}  ${fact.fact}: ${fact.seen}`);
};

async function main(argv: string[]): Promise<number> {
  const env = process.env;
  let options: VerifyOptions | undefined;
  try {
    options = parseOptions(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`consul-lab: ${error.message}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const progress = new Progress();
  let lab;
  let api;
  try {
    lab = loadLab(env);
    // The management token: verify reads ACL-protected state and the drill writes the operator's switch.
    api = labApi(lab, env);
  } catch (error) {
    if (error instanceof TopologyError || error instanceof SecretsError) {
      console.error(`consul-lab: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const containers = new LabContainers(labEngines(lab, env), lab.topology.name, deployedContainerIds());
  const entryUrl = `http://${lab.publishedHost}:${lab.topology.publish.entryPort}/`;

  const reached = { lab, api, containers, entryUrl };
  if (options.restore)
    return withPublishedPorts(reached, env, (forwardedFrom) =>
      restoreFromState(
        { ...reached, dnsUdpInsideNode: forwardedFrom !== undefined },
        // The lab was just disturbed: give it the time a fresh deploy gets.
        options.settleSeconds ?? 60,
        progress,
      ),
    );
  return checkLab(options, reached, env, progress);
}

/**
 * Runs `run` with the lab's published ports reachable here (through ssh forwards from a remote host, closed after);
 * a remote engine they cannot be forwarded from fails the run, in the report too.
 */
async function withPublishedPorts(
  reached: Omit<VerifyContext, "dnsUdpInsideNode">,
  env: NodeJS.ProcessEnv,
  run: (forwardedFrom: string | undefined) => Promise<number>,
): Promise<number> {
  activity = "reaching the published ports";
  let published: PublishedPorts;
  try {
    published = await reachPublishedPorts(reached.lab, env);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`consul-lab: ${error.message}`);
    writeReport({ lab: reached.lab.topology.name, passed: false, error: error.message, facts: [] });
    return 1;
  }
  try {
    return await run(published.forwardedFrom);
  } finally {
    await published.close();
  }
}

/** Finds the lab's containers, then checks the facts and runs the drill when asked. */
async function checkLab(
  options: VerifyOptions,
  reached: Omit<VerifyContext, "dnsUdpInsideNode">,
  env: NodeJS.ProcessEnv,
  progress: Progress,
): Promise<number> {
  const { lab, containers } = reached;
  const { drill } = options;
  // From here on the report is this run's: a run that ends any way but with a verdict leaves "running", never PASS.
  writeReport({ lab: lab.topology.name, passed: false, running: true, facts: [] });

  activity = "listing the lab's containers";
  let found;
  try {
    found = await containers.list();
  } catch (error) {
    const why = `cannot list the lab's containers: ${(error as Error).message}`;
    console.error(`consul-lab: ${why}; check \`npm run doctor\``);
    // The report says so too, so an old one is never taken for this run's.
    writeReport({ lab: lab.topology.name, passed: false, error: why, facts: [] });
    return 1;
  }
  if (containers.leftAlone.size > 0) console.log(`verify: ${leftAloneLine(containers, lab.topology.name)}`);
  if (found.length === 0) {
    console.error(
      `consul-lab: no container labelled ${LAB_LABEL}=${lab.topology.name} was found; is the lab deployed (npm run deploy) with this topology?`,
    );
    return 1;
  }
  if (drill && readDrillState()) {
    console.error(
      `consul-lab: an interrupted drill left ${DRILL_STATE_FILE}; run \`npm run verify -- --restore\` first, so this drill starts from the lab as it was`,
    );
    return 1;
  }
  return withPublishedPorts(reached, env, (forwardedFrom) => verifyThrough(options, reached, forwardedFrom, progress));
}

/** The facts, and the drill when asked, with the published ports reachable (through ssh forwards from `forwardedFrom`). */
async function verifyThrough(
  options: VerifyOptions,
  reached: Omit<VerifyContext, "dnsUdpInsideNode">,
  forwardedFrom: string | undefined,
  progress: Progress,
): Promise<number> {
  const { lab, api, containers, entryUrl } = reached;
  const { drill } = options;
  const via = forwardedFrom ? ` (through ssh forwards from ${forwardedFrom})` : "";
  console.log(`verify: lab ${lab.topology.name}, Consul at ${api.url}, entry ${entryUrl}${via}`);
  const context: VerifyContext = { ...reached, dnsUdpInsideNode: forwardedFrom !== undefined };
  activity = "checking the facts";
  const facts = await settledFacts(context, options.settleSeconds ?? defaultSettleSeconds(), progress);
  printFacts(facts);
  // What a killed drill left changed explains failing facts: say so, and how to put it back.
  const leftByDrill = drill ? undefined : readDrillState();
  if (leftByDrill)
    console.log(
      `verify: an interrupted drill left ${DRILL_STATE_FILE} (${[...leftByDrill.stopped, ...(leftByDrill.operatorSwitch ? [leftByDrill.operatorSwitch.key] : [])].join(", ") || "nothing"} changed); \`npm run verify -- --restore\` puts it back`,
    );

  let rows: DrillRow[] = [];
  let timelines: DrillTimeline[] = [];
  let restored: string[] = [];
  let factsAfterDrill: Fact[] | undefined;
  let drillRefused: string | undefined;
  if (drill && facts.some((fact) => !fact.ok)) {
    // A drill measures a change from a working lab; from a broken one its numbers would mean nothing.
    drillRefused = `${facts.filter((fact) => !fact.ok).length} fact(s) fail; the drill starts only from a lab whose facts all hold`;
    console.log(`drill: not run: ${drillRefused}`);
  } else if (drill) {
    const restorer = new Restorer(containers, api, lab.topology.name);
    let signalled: NodeJS.Signals | undefined;
    const soFar: { rows: DrillRow[]; timelines: DrillTimeline[] } = { rows: [], timelines: [] };
    /** Settles when the drill has returned: its step cut short by the signal has put its rows in `soFar` by then. */
    let drillReturned: () => void = () => {};
    const drillDone = new Promise<void>((resolve) => (drillReturned = resolve));
    // A signal stops the drill and puts the lab back before the process ends; a second one waits for that.
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        progress.line(`drill: ${signal} again; still restoring the lab, please wait`);
        return;
      }
      signalled = signal;
      progress.line(`drill: ${signal}; restoring the lab`);
      void restorer.restore().then(async (lines) => {
        for (const line of lines) progress.line(`restored: ${line}`);
        // The step in flight sees the signal at its next poll; a drill stuck in an action is not waited for long.
        await Promise.race([drillDone, new Promise((resolve) => setTimeout(resolve, 2000))]);
        // The rows so far, never the last run's: an interrupted drill has no verdict but "failed".
        writeReport({
          lab: lab.topology.name,
          passed: false,
          interrupted: signal,
          facts,
          drill: soFar.rows,
          restored: lines,
          timelines: soFar.timelines,
        });
        console.log(
          `verify: interrupted (${signal}); the report has the ${soFar.rows.length} row(s) so far (${REPORT_FILE})`,
        );
        process.exit(signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143);
      });
    };
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    for (const signal of signals) process.on(signal, onSignal);
    try {
      activity = "running the drill";
      ({ rows, timelines } = await runDrill(
        { ...context, progress, options: options.drillOptions, aborted: () => signalled !== undefined },
        restorer,
        soFar,
      ));
    } finally {
      drillReturned();
      activity = "restoring after the drill";
      restored = await restorer.restore();
      if (!signalled) for (const signal of signals) process.removeListener(signal, onSignal);
    }
    for (const line of restored) progress.line(`restored: ${line}`);
    console.log(`\n${table(rows)}`);
    // The drill's verdict includes the lab it leaves behind.
    activity = "checking the facts after the drill";
    console.log("\nverify: the facts again, after the drill");
    factsAfterDrill = await settledFacts(context, options.drillOptions.deadlineSeconds, progress);
    printFacts(factsAfterDrill);
  }

  const allFacts = [...facts, ...(factsAfterDrill ?? [])];
  const passed = allFacts.every((fact) => fact.ok) && rows.every((row) => row.ok) && !drillRefused;
  writeReport({
    lab: lab.topology.name,
    passed,
    facts,
    ...(leftByDrill ? { interruptedDrillLeft: leftByDrill } : {}),
    ...(drill ? { drill: rows, drillRefused, restored, factsAfterDrill, timelines } : {}),
  });
  const failures = allFacts.filter((fact) => !fact.ok).length + rows.filter((row) => !row.ok).length;
  console.log(
    passed ? `verify: every check passed (${REPORT_FILE})` : `verify: ${failures} check(s) failed (${REPORT_FILE})`,
  );
  return passed ? 0 : 1;
}

/**
 * `--restore`: puts back what an interrupted drill changed, from its state file, then waits (bounded by --settle) for
 * the facts: "as it was" is said only once they hold again; otherwise what is still settling.
 */
async function restoreFromState(context: VerifyContext, settleSeconds: number, progress: Progress): Promise<number> {
  activity = "restoring an interrupted drill";
  const { lab, containers, api } = context;
  const say = (line: string) => console.log(`verify: ${line}`);
  const restored = await restoreInterruptedDrill(lab.topology.name, containers, api, say);
  if (restored === undefined) {
    say(`no interrupted drill (${DRILL_STATE_FILE} does not exist); nothing to restore`);
    return 0;
  }
  if (restored === false) return 1;
  activity = "waiting for the restored lab to settle";
  const started = Date.now();
  const facts = await settledFacts(context, settleSeconds, progress);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const failing = facts.filter((fact) => !fact.ok);
  if (failing.length === 0) {
    say(`the lab is as it was before the drill: every fact holds again (after ${seconds} s)`);
    return 0;
  }
  for (const fact of failing) console.log(`FAIL  ${fact.fact}: ${fact.seen}`);
  say(
    `${failing.length} fact(s) still do not hold ${seconds} s after the restore; the lab may still be settling: run \`npm run verify\` again, or give it longer with --settle`,
  );
  return 1;
}

let settled = false;
// A main() that never settles leaves nothing to keep Node alive, and Node would exit 0 with no verdict (a socket that
// closed without an answer, once): that is a failure, and the report says what hung.
process.on("beforeExit", () => {
  if (settled) return;
  settled = true;
  console.error(`consul-lab: verify stopped without a verdict while ${activity}; this is a bug, please report it`);
  writeReport({ passed: false, hung: activity });
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (status) => {
    settled = true;
    process.exitCode = status;
  },
  (error: Error) => unexpected(error),
);

/** An error nobody anticipated, in main or in a handler of its own: one line, and a failing report. */
function unexpected(error: Error): void {
  settled = true;
  console.error(`consul-lab: unexpected error: ${error.message}`);
  if (process.env.CONSUL_LAB_DEBUG === "1") console.error(error.stack);
  else console.error("consul-lab: run again with CONSUL_LAB_DEBUG=1 for the stack trace");
  writeReport({ passed: false, error: `unexpected error while ${activity}: ${error.message}` });
  process.exitCode = 1;
}

process.on("uncaughtException", (error) => {
  unexpected(error);
  process.exit(1);
});
