/**
 * The lab's secrets for the commands that run Terraform: read from the secrets file (created by the first deploy),
 * and written into each synthesized stack's variables file, the one way a secret reaches Terraform
 * (secrets/stack-variables.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  declaredVariables,
  ensureLabTls,
  ensureSecrets,
  LabSecrets,
  LabTls,
  readSecrets,
  secretsFile,
  TLS_DIR,
  secretVariableValues,
  writeStackVariables,
} from "../secrets";
import type { Lab } from "../topology";
import { PROJECT_ROOT } from "../runtime/process";

/** What a deploy of a "secure" lab hands Terraform: the secrets file's values and the TLS material. */
export interface DeploySecrets {
  readonly secrets: LabSecrets;
  readonly tls: LabTls;
}

/**
 * The secrets of a "secure" lab (none for "none"). `create` lets the first deploy write the secrets file; every other
 * command only reads it, and fails with the way to create it. The TLS material is made as the topology needs it
 * (a new server's certificate, a renewal), so a diff shows what the deploy will change.
 */
export function labSecrets(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  create: boolean,
  say: (line: string) => void,
): DeploySecrets | undefined {
  if (!lab.secure) return undefined;
  const file = secretsFile(env);
  let secrets: LabSecrets;
  if (create) {
    const ensured = ensureSecrets(file);
    if (ensured.created) say(`created ${file} (owner-only); keep it, and back it up with the lab's state`);
    secrets = ensured.secrets;
  } else {
    secrets = readSecrets(file);
  }
  return { secrets, tls: ensureLabTls(lab, TLS_DIR, { say }) };
}

/** A synthesized stack's name and directory. */
export interface StackDirectory {
  readonly name: string;
  readonly workingDirectory: string;
}

/** Writes each stack's variables file with the variables it declares (a stack of a "none" lab declares none). */
export function writeSecretVariables(
  lab: Lab,
  secrets: DeploySecrets | undefined,
  stacks: readonly StackDirectory[],
): void {
  for (const stack of stacks) {
    const stackJson = join(stack.workingDirectory, "cdk.tf.json");
    const declared = existsSync(stackJson) ? declaredVariables(stackJson) : [];
    if (declared.length > 0 && !secrets) throw new Error(`stack ${stack.name} declares secrets, but the lab has none`);
    writeStackVariables(
      PROJECT_ROOT,
      stack.name,
      declared,
      secrets ? secretVariableValues(lab, secrets.secrets, secrets.tls) : {},
    );
  }
}
