/**
 * The one way a secret reaches Terraform (secrets/stack-variables.ts), asked of Terraform itself: a stack directory
 * laid out as synth lays it out, its `secrets.auto.tfvars.json` link pointing into the owner-only directory, and
 * `terraform console` reading the variables the stack declares. No provider is needed for that.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { fromStackDir } from "../shared/project-paths";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  declaredVariables,
  ensureLabTls,
  generateSecrets,
  roleTokenSecrets,
  secretVariableValues,
  STACK_VARIABLES_LINK,
  stackVariablesFile,
  writeStackVariables,
} from "../secrets";
import { CLUSTER_STACK_VARIABLES, labOf } from "./tools/helpers";
import { sharedDefaultRun } from "./tools/synth";

jest.setTimeout(60_000);

const lab = labOf();
const tls = ensureLabTls(lab, join(mkdtempSync(join(tmpdir(), "consul-lab-variables-tls-")), "tls"));
const synthesized = sharedDefaultRun().outdir;

/** A project with one stack directory holding the stack's variable declarations and the link synth wrote. */
function projectWith(stack: string): { root: string; stackDir: string } {
  const root = mkdtempSync(join(tmpdir(), "consul-lab-variables-"));
  const stackDir = join(root, "cdktf.out", "stacks", stack);
  mkdirSync(stackDir, { recursive: true });
  const config = JSON.parse(readFileSync(join(synthesized, "stacks", stack, "cdk.tf.json"), "utf8"));
  writeFileSync(join(stackDir, "main.tf.json"), JSON.stringify({ variable: config.variable }));
  // The link as synth writes it into the project's own cdktf.out (cli.test.ts checks that it does).
  symlinkSync(fromStackDir(stackVariablesFile(stack)), join(stackDir, STACK_VARIABLES_LINK));
  return { root, stackDir };
}

const consoleSays = (dir: string, expression: string) =>
  spawnSync("terraform", ["console"], {
    cwd: dir,
    input: `${expression}\n`,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
  });

describe("a stack's secret variables", () => {
  const secrets = generateSecrets();

  it("are read by Terraform through the link synth puts in the stack's directory", () => {
    const { root, stackDir } = projectWith("cluster");
    const declared = declaredVariables(join(synthesized, "stacks", "cluster", "cdk.tf.json"));
    expect(declared.sort()).toEqual(CLUSTER_STACK_VARIABLES);
    writeStackVariables(root, "cluster", declared, secretVariableValues(lab, secrets, tls));
    const seen = consoleSays(
      stackDir,
      'jsonencode([nonsensitive(var.gossip_key), nonsensitive(var.role_tokens["terraform"]), var.tls_ca_cert, nonsensitive(var.tls_server_keys["dev1002"])])',
    );
    expect(seen.status).toBe(0);
    expect(seen.stderr).not.toMatch(/Error|undeclared/);
    expect(JSON.parse(JSON.parse(seen.stdout.trim()))).toEqual([
      secrets.gossipKey,
      roleTokenSecrets(lab, secrets).terraform,
      tls.caCert,
      tls.servers.dev1002.key,
    ]);
  });

  it("hold only what the stack declares, owner-only in an owner-only directory", () => {
    const { root, stackDir } = projectWith("consul");
    writeStackVariables(root, "consul", ["role_tokens"], secretVariableValues(lab, secrets, tls));
    const file = join(root, ".secrets", "terraform", "consul.auto.tfvars.json");
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")))).toEqual(["role_tokens"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, ".secrets", "terraform")).mode & 0o777).toBe(0o700);
    // Terraform warns of nothing undeclared, and reads the map.
    const seen = consoleSays(stackDir, "length(nonsensitive(var.role_tokens))");
    expect(seen.status).toBe(0);
    expect(seen.stderr).not.toMatch(/Error|undeclared/);
    expect(Number(seen.stdout.trim())).toBe(Object.keys(roleTokenSecrets(lab, secrets)).length);
  });

  it("stop Terraform with its own words when the file was never written", () => {
    const { stackDir } = projectWith("consul");
    const seen = consoleSays(stackDir, "length(var.role_tokens)");
    expect(seen.status).not.toBe(0);
    expect(seen.stderr).toMatch(/Failed to read variables file/);
  });
});
