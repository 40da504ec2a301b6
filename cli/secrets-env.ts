/** The lab's secrets as the TF_VAR_* variables Terraform reads: the only way a secret reaches Terraform. */
import {
  DEFAULT_SECRETS_FILE,
  ensureSecrets,
  LabSecrets,
  readSecrets,
  roleTokenSecrets,
  SECRETS_FILE_ENV,
} from "../secrets";
import { SECRET_VARIABLES } from "../secrets/variable-names";
import type { Lab } from "../topology";
import { resolve } from "node:path";
import { PROJECT_ROOT } from "./process";

/** The secrets file: CONSUL_LAB_SECRETS_FILE, or the default, relative to the project root. */
export function secretsFile(env: NodeJS.ProcessEnv): string {
  return resolve(PROJECT_ROOT, env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE);
}

/**
 * The TF_VAR_* variables of a "secure" lab (none for "none"). `create` lets the first deploy write the secrets
 * file; every other command only reads it, and fails with the way to create it.
 */
export function secretVariables(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  create: boolean,
  say: (line: string) => void,
): Record<string, string> {
  if (!lab.secure) return {};
  const file = secretsFile(env);
  let secrets: LabSecrets;
  if (create) {
    const ensured = ensureSecrets(file);
    if (ensured.created) say(`created ${file} (owner-only); keep it, and back it up with the lab's state`);
    secrets = ensured.secrets;
  } else {
    secrets = readSecrets(file);
  }
  return {
    [`TF_VAR_${SECRET_VARIABLES.gossipKey}`]: secrets.gossipKey,
    [`TF_VAR_${SECRET_VARIABLES.managementToken}`]: secrets.managementToken,
    [`TF_VAR_${SECRET_VARIABLES.roleTokens}`]: JSON.stringify(roleTokenSecrets(lab, secrets)),
  };
}
