/**
 * `npm run bench`: how fast this project's own code synthesizes, measured so a change to it shows.
 *
 * Commands that are compared run interleaved (A B A B ...), so a machine that slows down mid-run slows both; each
 * figure is the median of BENCH_RUNS runs (default 5) with its min-max. It prints figures only: targets are read
 * by people (see docs/development.md), never asserted in tests.
 *
 *   app alone      `node scripts/run-ts.mjs main.ts` (what `npm run synth` and cdktf.json run: the bundle, checked up
 *                  to date and started from its code cache) vs the stock `npx ts-node main.ts` and
 *                  `ts-node --transpile-only`
 *   CLI overhead   `cdktf synth` with an app that writes an empty manifest, and `npm run synth` vs `cdktf synth`
 *                  of the stock app
 *   lab size       the app on generated labs of 6 to 600 nodes, fitted as a fixed cost plus a cost per node
 *   hosts          the app on a 300-node lab on one host and spread over 5 hosts (target: under 2 s)
 *   input scale    reading and validating a topology whose KV map holds 20,000 and 200,000 keys: time per key, peak
 *   baseline       with BENCH_BASELINE=<commit>, that commit's app on the same 600-node lab (git worktree)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ARTICLE_TOPOLOGY } from "../../topology";
import { generatedTopology } from "../../__tests__/tools/generated-topology";

// The bundle runs from .build/, one level below the project root.
const ROOT = join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Run {
  readonly seconds: number;
  readonly peakMiB: number;
}

interface Command {
  readonly label: string;
  readonly command: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

function runOnce(command: Command): Run {
  const started = process.hrtime.bigint();
  const result = spawnSync(command.command, command.args, {
    cwd: command.cwd ?? ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1", CONSUL_LAB_TOPOLOGY: "", ...command.env },
    encoding: "utf8",
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command.label} failed:\n${result.stderr}${result.stdout}`);
  const rss = /BENCH_PEAK_RSS_KIB=(\d+)/.exec(result.stderr);
  return { seconds, peakMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

interface Figure {
  readonly label: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly peakMiB: number;
}

/** Runs the commands interleaved, RUNS rounds; one figure per command. */
function interleaved(commands: Command[]): Figure[] {
  const runs = commands.map(() => [] as Run[]);
  for (let round = 0; round < RUNS; round++) commands.forEach((command, index) => runs[index].push(runOnce(command)));
  return commands.map((command, index) => {
    const seconds = runs[index].map((run) => run.seconds).sort((a, b) => a - b);
    return {
      label: command.label,
      median: seconds[Math.floor(seconds.length / 2)],
      min: seconds[0],
      max: seconds[seconds.length - 1],
      peakMiB: runs[index].reduce((peak, run) => Math.max(peak, run.peakMiB), 0),
    };
  });
}

const describe = (figure: Figure) =>
  `${figure.median.toFixed(2)} s (${figure.min.toFixed(2)}-${figure.max.toFixed(2)})${Number.isNaN(figure.peakMiB) ? "" : `, ${figure.peakMiB.toFixed(0)} MiB`}`;

function print(title: string, figures: Figure[], baseline?: Figure): void {
  console.log(title);
  for (const figure of figures) {
    const ratio =
      baseline && figure !== baseline ? `  = ${(figure.median / baseline.median).toFixed(2)}x ${baseline.label}` : "";
    console.log(`  ${figure.label.padEnd(44)} ${describe(figure)}${ratio}`);
  }
}

/** Least squares: seconds = fixed + perNode * nodes. */
function fit(points: [number, number][]): { fixed: number; perNode: number } {
  const n = points.length;
  const sx = points.reduce((sum, [x]) => sum + x, 0);
  const sy = points.reduce((sum, [, y]) => sum + y, 0);
  const sxx = points.reduce((sum, [x]) => sum + x * x, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + x * y, 0);
  const perNode = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { fixed: (sy - perNode * sx) / n, perNode };
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), "consul-lab-bench-"));
  const peak = join(ROOT, "scripts", "dev", "report-peak-rss.cjs");
  const cdktf = join(ROOT, "node_modules", ".bin", "cdktf");
  // A path, not require.resolve, which the bundler would follow and bundle ts-node for.
  const tsNode = join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
  try {
    // Build the bundle once (as `npm run synth` does, and reuses while its inputs are unchanged).
    runOnce({
      label: "build",
      command: process.execPath,
      args: ["scripts/run-ts.mjs", "main.ts"],
      env: { CDKTF_OUTDIR: join(work, "warm") },
    });
    console.log(`consul-lab bench: median of ${RUNS} interleaved runs (min-max), peak RSS of the measured process`);
    // Where the figures come from, so a quote of them cannot go stale without saying so.
    const commit = spawnSync("git", ["describe", "--always", "--dirty"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    console.log(
      `measured at commit ${commit || "unknown"}, on ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"})\n`,
    );

    const app = (label: string, args: string[], env: Record<string, string> = {}): Command => ({
      label,
      command: process.execPath,
      args: ["-r", peak, ...args],
      env: { CDKTF_OUTDIR: join(work, label.replace(/\W+/g, "-")), ...env },
    });
    const [ours, stock, transpileOnly] = interleaved([
      app("app alone (run-ts main.ts)", ["scripts/run-ts.mjs", "main.ts"]),
      app("stock app (ts-node main.ts)", [tsNode, "main.ts"]),
      app("ts-node --transpile-only main.ts", [tsNode, "--transpile-only", "main.ts"]),
    ]);
    print("The default lab, the app alone:", [ours, stock, transpileOnly], stock);

    const noop = join(work, "noop-app.js");
    writeFileSync(
      noop,
      'const fs = require("fs"); const out = process.env.CDKTF_OUTDIR; fs.mkdirSync(out, { recursive: true }); fs.writeFileSync(out + "/manifest.json", JSON.stringify({ version: "0.21.0", stacks: {} }));',
    );
    const [npmSynth, cdktfOurs, cdktfStock, cdktfNoop] = interleaved([
      { label: "npm run synth", command: "npm", args: ["run", "--silent", "synth"] },
      {
        label: "cdktf synth (this project's app)",
        command: cdktf,
        args: ["synth", "--output", join(work, "cdktf-ours")],
      },
      {
        label: "cdktf synth --app 'npx ts-node main.ts' (stock)",
        command: cdktf,
        args: ["synth", "--app", "npx ts-node main.ts", "--output", join(work, "cdktf-stock")],
      },
      {
        label: "cdktf synth of a no-op app (CLI overhead)",
        command: cdktf,
        args: ["synth", "--app", `node ${noop}`, "--output", join(work, "cdktf-noop")],
      },
    ]);
    print("\nThe default lab, end to end:", [npmSynth, cdktfOurs, cdktfNoop, cdktfStock], cdktfStock);

    const sizes = [6, 60, 300, 600];
    const labs = sizes.map((nodes) => {
      const file = join(work, `lab-${nodes}.json`);
      writeFileSync(file, JSON.stringify(generatedTopology(nodes)));
      return app(`${String(nodes).padStart(3)} nodes`, ["scripts/run-ts.mjs", "main.ts"], {
        CONSUL_LAB_TOPOLOGY: file,
      });
    });
    const bySize = interleaved(labs);
    print("\nGenerated labs, the app alone:", bySize);
    const { fixed, perNode } = fit(bySize.map((figure, index) => [sizes[index], figure.median]));
    console.log(`  fit: ${fixed.toFixed(2)} s fixed + ${(perNode * 1000).toFixed(2)} ms per node`);

    const overHosts = join(work, "lab-300-5-hosts.json");
    writeFileSync(overHosts, JSON.stringify(generatedTopology(300, 5)));
    const spread = interleaved([
      labs[sizes.indexOf(300)],
      app("300 nodes over 5 hosts", ["scripts/run-ts.mjs", "main.ts"], { CONSUL_LAB_TOPOLOGY: overHosts }),
    ]);
    print("\nOne host or several, the app alone:", spread, spread[0]);

    // Input scale: a topology file whose KV map holds 20,000 and 200,000 keys, read and validated alone.
    const keyCounts = [20_000, 200_000];
    const inputs = keyCounts.map((count) => {
      const file = join(work, `kv-${count}.json`);
      const kv: Record<string, string> = {};
      for (let index = 0; index < count; index++) kv[`web/data/key${index}`] = `value ${index}`;
      writeFileSync(file, JSON.stringify({ ...ARTICLE_TOPOLOGY, kv }));
      return { count, file, mib: statSync(file).size / 1024 / 1024 };
    });
    const byKeys = interleaved(
      inputs.map(({ count, file }) =>
        app(`${count} KV keys`, ["scripts/run-ts.mjs", "scripts/dev/load-topology.ts"], {
          CONSUL_LAB_TOPOLOGY: file,
        }),
      ),
    );
    print("\nInput scale, reading and validating the topology alone:", byKeys);
    byKeys.forEach((figure, index) => {
      const { count, mib } = inputs[index];
      console.log(
        `  ${String(count).padStart(6)} keys: ${((figure.median * 1e6) / count).toFixed(1)} µs per key; peak ${figure.peakMiB.toFixed(0)} MiB for a ${mib.toFixed(1)} MiB file`,
      );
    });

    // The whole secure synth at the same input sizes (__tests__/synth-scale.test.ts checks they finish).
    const blobs: Record<string, string> = {};
    for (let index = 0; index < 100; index++) blobs[`web/blob/${index}`] = "x".repeat(500 * 1024);
    const blobFile = join(work, "kv-50mb.json");
    writeFileSync(blobFile, JSON.stringify({ ...ARTICLE_TOPOLOGY, kv: blobs }));
    const whole = interleaved([
      app("200000 KV keys, whole synth", ["scripts/run-ts.mjs", "main.ts"], {
        CONSUL_LAB_TOPOLOGY: inputs[inputs.length - 1].file,
      }),
      app("50 MB of KV values, whole synth", ["scripts/run-ts.mjs", "main.ts"], { CONSUL_LAB_TOPOLOGY: blobFile }),
    ]);
    print("\nInput scale, the whole synth:", whole);

    const baselineCommit = process.env.BENCH_BASELINE;
    if (baselineCommit) {
      const tree = join(work, "baseline");
      spawnSync("git", ["worktree", "add", "--detach", tree, baselineCommit], { cwd: ROOT, stdio: "ignore" });
      try {
        symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
        runOnce({
          label: "baseline build",
          command: process.execPath,
          args: ["scripts/run-ts.mjs", "main.ts"],
          cwd: tree,
          env: { CDKTF_OUTDIR: join(work, "bw") },
        });
        const lab600 = labs[labs.length - 1].env!.CONSUL_LAB_TOPOLOGY;
        const [now, then] = interleaved([
          app("600 nodes, this tree", ["scripts/run-ts.mjs", "main.ts"], { CONSUL_LAB_TOPOLOGY: lab600 }),
          {
            // Each tree runs its app its own way, as its npm scripts do.
            ...app(`600 nodes, ${baselineCommit}`, [join(tree, "scripts", "run-ts.mjs"), "main.ts"], {
              CONSUL_LAB_TOPOLOGY: lab600,
            }),
            cwd: tree,
          },
        ]);
        print("\nAgainst the baseline:", [now, then], then);
      } finally {
        spawnSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT, stdio: "ignore" });
      }
    }
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

main();
