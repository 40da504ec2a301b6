/**
 * `npm run bench`: wall time and peak memory of synthesizing generated labs of about 6, 60 and 600 nodes,
 * and of the whole `cdktf synth` with this project's app against the stock `npx ts-node main.ts`.
 * Prints figures only; targets are read by people (see the README), never asserted in tests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedTopology } from "./generated-topology";

const ROOT = join(__dirname, "..", "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Measurement {
  readonly seconds: number;
  readonly peakMiB: number;
}

function measure(command: string, args: string[], env: Record<string, string>): Measurement {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
  const rss = /BENCH_PEAK_RSS_KIB=(\d+)/.exec(result.stderr);
  return { seconds, peakMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function repeat(run: () => Measurement): Measurement {
  const runs = Array.from({ length: RUNS }, run);
  return { seconds: median(runs.map((m) => m.seconds)), peakMiB: Math.max(...runs.map((m) => m.peakMiB)) };
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), "consul-lab-bench-"));
  try {
    // Build the app once, as `cdktf synth` would, then time only its runs.
    spawnSync(process.execPath, ["scripts/run-ts.mjs", "main.ts"], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: join(work, "warm") },
    });
    console.log(`Synthesizing generated labs (app only, median of ${RUNS} runs, peak RSS of the app process):`);
    const perNode: number[] = [];
    for (const nodeCount of [6, 60, 600]) {
      const file = join(work, `lab-${nodeCount}.json`);
      writeFileSync(file, JSON.stringify(generatedTopology(nodeCount)));
      const result = repeat(() =>
        measure(process.execPath, ["-r", "./scripts/dev/report-peak-rss.cjs", ".build/main.js"], {
          CONSUL_LAB_TOPOLOGY: file,
          CDKTF_OUTDIR: join(work, `out-${nodeCount}`),
        }),
      );
      perNode.push(result.seconds / nodeCount);
      console.log(
        `  ${String(nodeCount).padStart(4)} nodes: ${result.seconds.toFixed(2)} s, ${result.peakMiB.toFixed(0)} MiB`,
      );
    }
    console.log(`  time per node: ${perNode.map((s) => `${(s * 1000).toFixed(1)} ms`).join(" -> ")}`);

    console.log(`Full \`cdktf synth\` of the default lab (median of ${RUNS} runs):`);
    const cdktf = join(ROOT, "node_modules", ".bin", "cdktf");
    const env = { CHECKPOINT_DISABLE: "1", CONSUL_LAB_TOPOLOGY: "" };
    const ours = repeat(() => measure(cdktf, ["synth", "--output", join(work, "ours")], env));
    const stock = repeat(() =>
      measure(cdktf, ["synth", "--app", "npx ts-node main.ts", "--output", join(work, "stock")], env),
    );
    console.log(`  this project's app (esbuild): ${ours.seconds.toFixed(2)} s`);
    console.log(`  stock app (npx ts-node main.ts): ${stock.seconds.toFixed(2)} s`);
    console.log(`  ratio: ${(ours.seconds / stock.seconds).toFixed(2)}x (target: at most 0.60x)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
