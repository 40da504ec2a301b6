/**
 * The whole secure synth (`main.ts`, both stacks and the rendered files) at input sizes `npm run bench` also times:
 * 600 nodes, 200,000 KV keys and 50 MB of KV values. Each must finish; what it holds in memory beyond synthesizing the
 * article's lab must stay within a bound proportional to its input. 200,000 keys once overflowed the stack in the ACL
 * roles (an input-sized list spread into a call; eslint.config.mjs now refuses every such spread).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTICLE_TOPOLOGY } from "../topology";
import { generatedTopology } from "./tools/generated-topology";
import { PROJECT_ROOT } from "./tools/synth";

jest.setTimeout(120_000);

/** Peak resident memory of one synth, in bytes, and how it ended. */
/** The bytes of every file under a directory. */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  return total;
}

interface Synth {
  readonly status: number | null;
  readonly stderr: string;
  readonly peakBytes: number;
  /** The topology file and everything the synth wrote: what it must hold, at least once. */
  readonly ioBytes: number;
}

function synth(topology: unknown): Synth {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-scale-"));
  const file = join(dir, "topology.json");
  writeFileSync(file, JSON.stringify(topology));
  const result = spawnSync(
    process.execPath,
    ["-r", join(PROJECT_ROOT, "scripts/dev/report-peak-rss.cjs"), "scripts/run-ts.mjs", "main.ts"],
    {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, CONSUL_LAB_TOPOLOGY: file, CDKTF_OUTDIR: join(dir, "out") },
    },
  );
  const kib = Number(/BENCH_PEAK_RSS_KIB=(\d+)/.exec(result.stderr)?.[1] ?? NaN);
  const ioBytes = result.status === 0 ? bytesUnder(dir) : NaN;
  return { status: result.status, stderr: result.stderr, peakBytes: kib * 1024, ioBytes };
}

/**
 * What the synth may hold beyond the article's lab, per byte it reads and writes. What it writes is the floor of the
 * work, not the topology: 7 MB of 200,000 keys becomes 8 MB of KV data and an 11 MB ACL plan (a rule per key in the
 * terraform role), and 42 KB of topology for 600 nodes becomes 10 MB of stacks and rendered files.
 *
 * The KV passes through the synth once, as text (constructs/consul-objects.ts): under 10 times. Measured at this
 * bound's introduction: 200,000 keys 6.3, 50 MB of values 1.8 (3.7 times its input alone); as a block per key
 * through cdktf's resolver they were over 10 and 7.
 * Many nodes are cdktf's own work: the construct tree, the resolver's copies and json-stable-stringify's strings
 * (46 MB of the 600-node peak) hold 16.7 times the bytes written; the bound keeps that from growing.
 */
const HELD_PER_BYTE = { kv: 10, nodes: 20 } as const;

describe("the whole secure synth at scale", () => {
  const baseline = synth(ARTICLE_TOPOLOGY);

  it("synthesizes the article's lab", () => {
    expect(baseline.status).toBe(0);
  });

  it.each([
    ["600 nodes", HELD_PER_BYTE.nodes, () => generatedTopology(600)],
    [
      "200,000 KV keys",
      HELD_PER_BYTE.kv,
      () => {
        const kv: Record<string, string> = {};
        for (let index = 0; index < 200_000; index++) kv[`web/data/key${index}`] = `value ${index}`;
        return { ...ARTICLE_TOPOLOGY, kv };
      },
    ],
    [
      "50 MB of KV values",
      HELD_PER_BYTE.kv,
      () => {
        const kv: Record<string, string> = {};
        for (let index = 0; index < 100; index++) kv[`web/blob/${index}`] = "x".repeat(500 * 1024);
        return { ...ARTICLE_TOPOLOGY, kv };
      },
    ],
  ])("finishes with %s, holding under %d bytes per byte it reads and writes", (_what, bound, topology) => {
    const run = synth(topology());
    expect({ status: run.status, stderr: run.status === 0 ? "" : run.stderr }).toEqual({ status: 0, stderr: "" });
    const growth = run.peakBytes - baseline.peakBytes;
    expect(growth / run.ioBytes).toBeLessThan(bound);
  });
});
