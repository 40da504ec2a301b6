/**
 * `npm run synth | deploy | diff | destroy`: runs cdktf on every stack with the lab's secrets passed as sensitive
 * Terraform variables (TF_VAR_*), so no secret is ever written into cdktf.out. The first deploy creates the secrets
 * file; diff and destroy only read it; synth needs none, and neither does a topology with security "none".
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { SECRET_VARIABLES } from "../stacks/secret-variables";
import {
  DEFAULT_SECRETS_FILE,
  ensureSecrets,
  readSecrets,
  roleTokenSecrets,
  SecretsError,
  SECRETS_FILE_ENV,
} from "../secrets";
import { loadLab, TopologyError } from "../topology";

const COMMANDS: Record<string, string[]> = {
  synth: ["synth"],
  deploy: ["deploy", "*", "--auto-approve", "--outputs-file", "outputs.json"],
  diff: ["diff", "*"],
  destroy: ["destroy", "*"],
};

function main(): number {
  const [command, ...extra] = process.argv.slice(2);
  const cdktfArgs = COMMANDS[command ?? ""];
  if (!cdktfArgs) {
    console.error(`usage: cdktf-with-secrets ${Object.keys(COMMANDS).join("|")} [cdktf options]`);
    return 2;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
  try {
    const lab = loadLab();
    if (lab.topology.security === "secure" && command !== "synth") {
      const file = process.env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE;
      let secrets;
      if (command === "deploy") {
        const ensured = ensureSecrets(file);
        if (ensured.created)
          console.error(`consul-lab: created ${file} (owner-only); keep it, and back it up with the lab's state`);
        secrets = ensured.secrets;
      } else {
        secrets = readSecrets(file);
      }
      env[`TF_VAR_${SECRET_VARIABLES.gossipKey}`] = secrets.gossipKey;
      env[`TF_VAR_${SECRET_VARIABLES.managementToken}`] = secrets.managementToken;
      env[`TF_VAR_${SECRET_VARIABLES.roleTokens}`] = JSON.stringify(roleTokenSecrets(lab, secrets));
    }
  } catch (error) {
    if (error instanceof TopologyError || error instanceof SecretsError) {
      console.error(`consul-lab: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const cdktf = join(__dirname, "..", "node_modules", ".bin", "cdktf");
  const result = spawnSync(cdktf, [...cdktfArgs, ...extra], { stdio: "inherit", env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

process.exitCode = main();
