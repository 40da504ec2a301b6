/** Runs the real app entry point (`main.ts`, as cdktf.json does) into a fresh output directory. */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

export const PROJECT_ROOT = join(__dirname, "..", "..");

export interface AppRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly outdir: string;
  /** Every file written, by path relative to the output directory. */
  readonly files: Record<string, string>;
}

/** Every file under a directory, at any depth, symbolic links included (not followed); none when it does not exist. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return lstatSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** Every file under a directory with its text, by path relative to it; a symbolic link as `-> <its target>`. */
export function filesIn(outdir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(outdir).map((file) => [
      relative(outdir, file),
      lstatSync(file).isSymbolicLink() ? `-> ${readlinkSync(file)}` : readFileSync(file, "utf8"),
    ]),
  );
}

/** A fresh run of the app, into a new output directory. */
export function runApp(env: Record<string, string> = {}): AppRun {
  const outdir = mkdtempSync(join(tmpdir(), "consul-lab-synth-"));
  const result = spawnSync(process.execPath, ["scripts/run-ts.mjs", "main.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CONSUL_LAB_TOPOLOGY: "", ...env, CDKTF_OUTDIR: outdir },
    encoding: "utf8",
  });
  return { status: result.status, stderr: result.stderr, outdir, files: filesIn(outdir) };
}

/**
 * The app's run on the default lab, done once for the whole test run by global-setup.js: for tests that read it.
 * A test that changes the output directory, or checks that two runs agree, makes its own with runApp.
 */
export function sharedDefaultRun(): AppRun {
  const outdir = process.env.CONSUL_LAB_TEST_DEFAULT_SYNTH;
  if (!outdir) return runApp();
  const { status, stderr } = JSON.parse(readFileSync(`${outdir}.json`, "utf8"));
  return { status, stderr, outdir, files: filesIn(outdir) };
}
