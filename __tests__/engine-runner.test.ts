/**
 * `npm run test:engine` (engine/run.sh) where no engine can start: one line that says why, a non-zero exit, and
 * nothing left behind. Its suites themselves need the engine and run only through it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./tools/synth";

/** A PATH holding only the named programs, as found on this machine's PATH. */
function pathWith(programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-path-"));
  for (const program of programs) {
    const found = spawnSync("bash", ["-c", `command -v ${program}`], { encoding: "utf8" }).stdout.trim();
    if (found) symlinkSync(found, join(dir, program));
  }
  return dir;
}

describe("npm run test:engine without an engine", () => {
  it("says in one line why it cannot start an engine, and exits non-zero before starting anything", () => {
    const before = readdirSync("/tmp").filter((name) => name.startsWith("consul-lab-engine.")).length;
    const result = spawnSync("bash", ["__tests__/engine/run.sh"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: pathWith(["bash", "id", "node", "npx", "docker", "mktemp", "dirname"]) },
    });
    // Root is asked for first: only root may start a dockerd.
    const why =
      process.getuid?.() === 0
        ? "no dockerd on the PATH (Debian: apt-get install docker.io)"
        : "needs root to start its own dockerd (run it as root, as CI does)";
    expect(result.stderr).toBe(`test:engine: ${why}\n`);
    expect(result.status).toBe(1);
    expect(readdirSync("/tmp").filter((name) => name.startsWith("consul-lab-engine."))).toHaveLength(before);
  });
});
