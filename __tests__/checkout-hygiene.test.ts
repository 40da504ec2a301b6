/** What the README's commands write stays out of git, Prettier and ESLint, so a documented flow leaves a clean checkout. */
import { spawnSync } from "node:child_process";
import { PROJECT_ROOT } from "./tools/synth";

const WRITTEN = [
  "labs/my-lab.json",
  "outputs.json",
  "verify-report.json",
  "verify-report.html",
  "topology.svg",
  ".secrets/tls/ca-key.pem",
  ".verify-drill.json",
  ".secrets/terraform/cluster.auto.tfvars.json",
  "state/cluster.tfstate",
  ".secrets/consul-lab.json",
  "cdktf.out/stacks/cluster/cdk.tf.json",
  ".build/main.js",
  "backups/consul-20261126T010000Z.snap",
];

describe("files the documented commands write", () => {
  it.each(WRITTEN)("%s is ignored by git", (path) => {
    const result = spawnSync("git", ["check-ignore", "--no-index", "-q", path], { cwd: PROJECT_ROOT });
    expect(result.status).toBe(0);
  });

  it.each(WRITTEN.filter((path) => /\.(json|js|html)$/.test(path)))("%s is ignored by Prettier", (path) => {
    const result = spawnSync(process.execPath, [require.resolve("prettier/bin/prettier.cjs"), "--file-info", path], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    expect(JSON.parse(result.stdout)).toMatchObject({ ignored: true });
  });

  it("labs/ is ignored by ESLint", () => {
    // ESLint loads its flat config as an ES module, which Jest's sandbox cannot: ask it in a process of its own.
    const script =
      'const { ESLint } = require("eslint"); new ESLint().isPathIgnored("labs/my-lab.ts").then((ignored) => console.log(ignored));';
    const result = spawnSync(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
    expect(result.stdout.trim()).toBe("true");
  });
});
