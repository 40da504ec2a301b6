/**
 * `npm run verify [-- --drill]`: proves a deployed lab works (one line per fact, with the value seen) and, with
 * --drill, runs the article's failover experiment and times it. Writes verify-report.json; exits 1 on any failure.
 */
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSecrets, SecretsError } from "../secrets";
import { loadLab, TopologyError } from "../topology";
import { DockerCli } from "./docker";
import { PROJECT_ROOT } from "./process";
import { secretsFile } from "./secrets-env";
import { ConsulApi } from "./verify/consul-api";
import { DrillOptions, DrillRow, Restorer, runDrill } from "./verify/drill";
import { Fact, verifyLab } from "./verify/facts";
import { LabContainers } from "./verify/lab-containers";
import { Progress } from "./verify/progress";
import { jsonFileText } from "../renderers/generated-file";

export const REPORT_FILE = "verify-report.json";

class UsageError extends Error {}

interface VerifyOptions {
  readonly drill: boolean;
  /** From --settle; undefined when not given. */
  readonly settleSeconds?: number;
  readonly drillOptions: DrillOptions;
}

const USAGE = `usage: npm run verify [-- --drill] [-- --settle SECONDS]
  --drill            also run the failover drill, timed (stops and starts the lab's own containers)
  --settle SECONDS   ask a lab that is not right yet again for up to this long (default: 60 s right after a deploy)
  CONSUL_LAB_DRILL_DEADLINE_SECONDS, CONSUL_LAB_DRILL_WINDOW_SECONDS   the drill's deadline (60) and window (10)`;

/** A number of seconds, as `--settle` or an environment variable gives it: digits, with an optional fraction. */
function secondsFrom(source: string, text: string | undefined, atLeast: "0" | "above 0"): number {
  const rule = atLeast === "0" ? "0 or more" : "above 0";
  if (text === undefined) throw new UsageError(`${source} needs a number of seconds (${rule})`);
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || (atLeast === "above 0" && value === 0))
    throw new UsageError(`${source} takes a number of seconds (${rule}), not "${text}"`);
  return value;
}

/**
 * The command line and, for a drill, its environment variables: all checked before anything is asked or changed.
 * Undefined for --help, whose usage is printed.
 */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): VerifyOptions | undefined {
  let drill = false;
  let settleSeconds: number | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--help" || arg === "-h") return undefined;
    if (arg === "--drill") drill = true;
    else if (arg === "--settle") settleSeconds = secondsFrom("--settle", argv[++index], "0");
    else if (arg.startsWith("--settle=")) settleSeconds = secondsFrom("--settle", arg.slice("--settle=".length), "0");
    else throw new UsageError(`unknown argument "${arg}"; verify takes --drill and --settle SECONDS (see --help)`);
  }
  // Read only for a drill: a plain verify never uses them.
  const envSeconds = (name: string, fallback: number) =>
    !drill || env[name] === undefined || env[name] === "" ? fallback : secondsFrom(name, env[name], "above 0");
  return {
    drill,
    settleSeconds,
    drillOptions: {
      deadlineSeconds: envSeconds("CONSUL_LAB_DRILL_DEADLINE_SECONDS", 60),
      windowSeconds: envSeconds("CONSUL_LAB_DRILL_WINDOW_SECONDS", 10),
      pollMs: 100,
    },
  };
}

/** How long a lab that is not right yet is asked again: a minute right after a deploy, else not at all. */
function defaultSettleSeconds(): number {
  const outputs = join(PROJECT_ROOT, "outputs.json");
  const fresh = existsSync(outputs) && Date.now() - statSync(outputs).mtimeMs < 10 * 60 * 1000;
  return fresh ? 60 : 0;
}

function table(rows: DrillRow[]): string {
  const header = ["step", "expected", "seen", "seconds", "result"];
  const cells = rows.map((row) => [
    row.step,
    row.expected,
    row.seen,
    row.seconds?.toFixed(1) ?? "-",
    row.ok ? "PASS" : "FAIL",
  ]);
  const widths = header.map((title, column) =>
    Math.min(60, Math.max(title.length, ...cells.map((cell) => cell[column].length))),
  );
  const format = (cell: string[]) =>
    cell
      .map((text, column) => text.padEnd(widths[column]))
      .join("  ")
      .trimEnd();
  return [format(header), format(widths.map((width) => "-".repeat(width))), ...cells.map(format)].join("\n");
}

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
  const { drill } = options;
  const progress = new Progress();
  let lab;
  let token: string | undefined;
  try {
    lab = loadLab(env);
    token = env.CONSUL_HTTP_TOKEN || (lab.secure ? readSecrets(secretsFile(env)).managementToken : undefined);
  } catch (error) {
    if (error instanceof TopologyError || error instanceof SecretsError) {
      console.error(`consul-lab: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const { publish } = lab.topology;
  const api = new ConsulApi(lab.publishedHttpAddress, token);
  const containers = new LabContainers(new DockerCli(env), lab.topology.name);
  const entryUrl = `http://${publish.address}:${publish.entryPort}/`;

  let found;
  try {
    found = containers.list();
  } catch (error) {
    console.error(
      `consul-lab: cannot list the lab's containers: ${(error as Error).message}; check \`npm run doctor\``,
    );
    return 1;
  }
  if (found.length === 0) {
    console.error(
      `consul-lab: no container labelled consul-lab.lab=${lab.topology.name} was found; is the lab deployed (npm run deploy) with this topology?`,
    );
    return 1;
  }

  console.log(`verify: lab ${lab.topology.name}, Consul at ${lab.publishedHttpAddress}, entry ${entryUrl}`);
  // Right after a deploy, agents register with their new ACL tokens on their next sync (up to a minute): a lab that
  // is not right yet is asked again until it is, or until the settle time is over, then reported.
  const settleSeconds = options.settleSeconds ?? defaultSettleSeconds();
  const settleStarted = Date.now();
  let facts: Fact[] = await verifyLab({ lab, api, containers, entryUrl });
  while (facts.some((fact) => !fact.ok) && (Date.now() - settleStarted) / 1000 < settleSeconds) {
    const failing = facts.filter((fact) => !fact.ok).length;
    progress.tick(
      "waiting for the lab to settle",
      (Date.now() - settleStarted) / 1000,
      `${failing} fact(s) not right yet`,
    );
    // Each pass asks every node, so once a second is often enough to see the lab settle without crowding it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    facts = await verifyLab({ lab, api, containers, entryUrl });
  }
  progress.done();
  for (const fact of facts) console.log(`${fact.ok ? "ok  " : "FAIL"}  ${fact.fact}: ${fact.seen}`);

  let rows: DrillRow[] = [];
  let restored: string[] = [];
  if (drill) {
    const restorer = new Restorer(containers, api);
    // Ctrl-C or a SIGTERM still puts the lab back before the process ends.
    const onSignal = (signal: NodeJS.Signals) => {
      progress.line(`drill: ${signal}; restoring the lab`);
      void restorer.restore().then((lines) => {
        for (const line of lines) progress.line(`restored: ${line}`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      rows = await runDrill(
        {
          lab,
          api,
          containers,
          entryUrl,
          progress,
          options: options.drillOptions,
        },
        restorer,
      );
    } finally {
      restored = await restorer.restore();
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    for (const line of restored) progress.line(`restored: ${line}`);
    console.log(`\n${table(rows)}`);
  }

  const passed = facts.every((fact) => fact.ok) && rows.every((row) => row.ok);
  const report = {
    lab: lab.topology.name,
    passed,
    facts,
    drill: drill ? rows : undefined,
    restored: drill ? restored : undefined,
  };
  writeFileSync(join(PROJECT_ROOT, REPORT_FILE), jsonFileText(report));
  const failures = facts.filter((fact) => !fact.ok).length + rows.filter((row) => !row.ok).length;
  console.log(
    passed ? `verify: every check passed (${REPORT_FILE})` : `verify: ${failures} check(s) failed (${REPORT_FILE})`,
  );
  return passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => (process.exitCode = status),
  (error: Error) => {
    console.error(`consul-lab: unexpected error: ${error.message}`);
    if (process.env.CONSUL_LAB_DEBUG === "1") console.error(error.stack);
    process.exitCode = 1;
  },
);
