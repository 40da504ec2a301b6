/** Runs the real app entry point (`main.ts`, as cdktf.json does) into a fresh output directory. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

export const PROJECT_ROOT = join(__dirname, "..");

export interface AppRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly outdir: string;
  /** Every file written, by path relative to the output directory. */
  readonly files: Record<string, string>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

export function runApp(env: Record<string, string> = {}): AppRun {
  const outdir = mkdtempSync(join(tmpdir(), "consul-lab-synth-"));
  const result = spawnSync(process.execPath, ["scripts/run-ts.mjs", "main.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CONSUL_LAB_TOPOLOGY: "", ...env, CDKTF_OUTDIR: outdir },
    encoding: "utf8",
  });
  const files = Object.fromEntries(
    listFiles(outdir).map((file) => [relative(outdir, file), readFileSync(file, "utf8")]),
  );
  return { status: result.status, stderr: result.stderr, outdir, files };
}
