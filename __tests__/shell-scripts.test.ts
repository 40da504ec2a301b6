import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const SCRIPTS = [
  "assets/handlers/maintenance-flag.sh",
  "assets/load-balancer/install-site-conf.sh",
  "__tests__/tools/render-template/render-template",
  "__tests__/tools/fakes/bin/docker",
  "__tests__/tools/fakes/bin/terraform",
  "__tests__/tools/fakes/client.bash",
  ".ci/run",
  "scripts/ops/backup.sh",
  "scripts/ops/restore.sh",
  "scripts/ops/consul-api.sh",
  "__tests__/engine/run.sh",
  "__tests__/engine/dockerd.sh",
  "__tests__/engine/hosts.sh",
  "__tests__/engine/exec-via-stand-in/docker",
  "__tests__/engine/twin-consul-entrypoint.sh",
  "__tests__/engine/twin-nginx-entrypoint.sh",
  "__tests__/engine/twin-wget.sh",
];

/** Every file of the checkout that bash or sh runs: by extension, or by its first line. */
function shellScriptsInCheckout(): string[] {
  const files = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .stdout.split("\n")
    .filter(Boolean);
  return files.filter((file) => {
    if (/\.(sh|bash)$/.test(file) || file === ".ci/run") return true;
    if (file.includes(".") && !file.startsWith(".")) return false;
    try {
      return /^#!.*\b(ba)?sh\b/.test(readFileSync(join(ROOT, file), "utf8").split("\n", 1)[0]);
    } catch {
      return false;
    }
  });
}

describe("shell scripts", () => {
  it("lists every shell script of the checkout", () => {
    expect(shellScriptsInCheckout().filter((file) => !SCRIPTS.includes(file))).toEqual([]);
  });

  it.each(SCRIPTS)("%s passes shellcheck", (script) => {
    const result = spawnSync("shellcheck", ["--external-sources", "--severity=style", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (result.error) throw new Error(`cannot run shellcheck (apt-get install shellcheck): ${result.error.message}`);
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });
});
