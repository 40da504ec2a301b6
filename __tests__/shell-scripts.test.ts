import { spawnSync } from "node:child_process";
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
];

describe("shell scripts", () => {
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
