/**
 * The lab's secrets for the commands that run Terraform: read from the secrets file (created by the first deploy),
 * and written into each synthesized stack's variables file, the one way a secret reaches Terraform
 * (secrets/stack-variables.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  declaredVariables,
  DEFAULT_SECRETS_FILE,
  DEFAULT_TLS_DIR,
  ensureLabTls,
  ensureSecrets,
  labCaFile,
  LabSecrets,
  LabTls,
  SecretsError,
  readSecrets,
  roleTokenSecret,
  SECRETS_FILE_ENV,
  secretVariableValues,
  writeStackVariables,
} from "../secrets";
import { VERIFY_ROLE } from "../renderers/acl-policies";
import type { Lab } from "../topology";
import { PROJECT_ROOT } from "./process";
import { ConsulApi } from "./verify/consul-api";

/** The secrets file: CONSUL_LAB_SECRETS_FILE, or the default, relative to the project root. */
export function secretsFile(env: NodeJS.ProcessEnv): string {
  return resolve(PROJECT_ROOT, env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE);
}

/** What a deploy of a "secure" lab hands Terraform: the secrets file's values and the TLS material. */
export interface DeploySecrets {
  readonly secrets: LabSecrets;
  readonly tls: LabTls;
}

/** The lab's TLS folder (secrets/lab-tls.ts). */
export const TLS_DIR = resolve(PROJECT_ROOT, DEFAULT_TLS_DIR);

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

/**
 * How this machine speaks to the lab's published API: the lab CA's certificate to trust in "secure" mode (the API
 * is HTTPS), undefined for the article's plain HTTP. Missing before the first deploy, which says so.
 */
export function labApiCa(lab: Lab): string | undefined {
  if (!lab.secure) return undefined;
  const file = labCaFile(TLS_DIR);
  if (!existsSync(file)) {
    throw new SecretsError(`no lab CA at ${file}: the lab has not been deployed from this checkout (npm run deploy)`);
  }
  return readFileSync(file, "utf8");
}

/** A client of the lab's published API, with its token and, in "secure" mode, its CA and server name. */
export function labApi(lab: Lab, env: NodeJS.ProcessEnv): ConsulApi {
  return new ConsulApi(lab.publishedHttpAddress, labOperatorToken(lab, env), {
    tls: lab.secure ? { ca: labApiCa(lab)!, serverName: lab.serverTlsName } : undefined,
  });
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

/**
 * The token the CLI and verify talk to the lab's Consul with: CONSUL_LAB_HTTP_TOKEN, or ("secure" labs) the `verify`
 * role's token, derived from the secrets file: it reads what verify checks and writes only the operator's
 * maintenance switch, so a verify or repair run holds no management token. Consul's own CONSUL_HTTP_TOKEN is ignored,
 * as the ops scripts do: a shell set up for a real cluster must not decide what is sent to the lab, nor the lab's
 * token go anywhere else.
 */
export function labOperatorToken(lab: Lab, env: NodeJS.ProcessEnv): string | undefined {
  if (env.CONSUL_LAB_HTTP_TOKEN) return env.CONSUL_LAB_HTTP_TOKEN;
  return lab.secure ? roleTokenSecret(readSecrets(secretsFile(env)), VERIFY_ROLE) : undefined;
}
