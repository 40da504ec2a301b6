/**
 * How the secrets reach Terraform: one owner-only variables file per stack, `.secrets/terraform/<stack>.auto.tfvars.json`,
 * holding exactly the variables that stack declares. Synth links it into the stack's directory as
 * `secrets.auto.tfvars.json`, which Terraform loads by itself, so `npm run deploy`, `npx cdktf deploy` and a plain
 * `terraform plan` in that directory all read the same values, and none of them is ever on a command line, in an
 * environment or in `cdktf.out/` (the link holds a path, not a value). Whoever runs Terraform writes the files first
 * from the secrets file and the topology: the CLI, or the app when the cdktf CLI runs it (cli/cdktf-app.ts).
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { jsonFileText } from "../shared/generated-file";
import type { Lab } from "../topology";
import { roleTokenSecrets } from "./role-tokens";
import type { LabTls } from "./lab-tls";
import type { LabSecrets } from "./secrets-file";
import { SECRET_VARIABLES } from "./variable-names";

/** The link in each stack's directory, which Terraform loads as it loads any `*.auto.tfvars.json`. */
export const STACK_VARIABLES_LINK = "secrets.auto.tfvars.json";

/** A stack's variables file, relative to the project root. */
export function stackVariablesFile(stack: string): string {
  return `.secrets/terraform/${stack}.auto.tfvars.json`;
}

/**
 * Where `cdktf diff` and `cdktf deploy` save a stack's plan (`terraform plan -out plan` in its directory), which
 * holds every variable in clear: synth makes `plan` a link to this owner-only file, so the plan never lands in
 * cdktf.out. Relative to the project root.
 */
export const CDKTF_PLAN_LINK = "plan";
export function stackPlanFile(stack: string): string {
  return `.secrets/terraform/${stack}.tfplan`;
}

/** Every secret variable a stack may declare, with its value for this lab. */
export function secretVariableValues(lab: Lab, secrets: LabSecrets, tls: LabTls): Record<string, unknown> {
  const servers = Object.entries(tls.servers);
  return {
    [SECRET_VARIABLES.gossipKey]: secrets.gossipKey,
    [SECRET_VARIABLES.managementToken]: secrets.managementToken,
    [SECRET_VARIABLES.roleTokens]: roleTokenSecrets(lab, secrets),
    [SECRET_VARIABLES.tlsCaCert]: tls.caCert,
    [SECRET_VARIABLES.tlsServerCerts]: Object.fromEntries(servers.map(([node, pair]) => [node, pair.cert])),
    [SECRET_VARIABLES.tlsServerKeys]: Object.fromEntries(servers.map(([node, pair]) => [node, pair.key])),
  };
}

/** The variables a synthesized stack declares, from its cdk.tf.json. */
export function declaredVariables(stackJsonFile: string): string[] {
  return Object.keys((JSON.parse(readFileSync(stackJsonFile, "utf8")) as { variable?: object }).variable ?? {});
}

/**
 * Writes a stack's variables file: only what it declares, owner-only in an owner-only directory, replaced whole
 * (a reader never sees half a file). A stack that declares none gets no file.
 */
export function writeStackVariables(
  projectRoot: string,
  stack: string,
  declared: readonly string[],
  values: Record<string, unknown>,
): void {
  const file = join(projectRoot, stackVariablesFile(stack));
  if (declared.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const unknown = declared.filter((name) => !(name in values));
  if (unknown.length > 0) throw new Error(`stack ${stack} declares variables no secret fills: ${unknown.join(", ")}`);
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A directory planted in its place (a link elsewhere, or another user's) is refused, not written through.
  const stats = lstatSync(dir);
  if (!stats.isDirectory() || (process.getuid && stats.uid !== process.getuid()))
    throw new Error(`${dir} is not a directory of this user's; move it away`);
  // An existing directory keeps its mode through mkdir: made owner-only here in any case.
  chmodSync(dir, 0o700);
  // A new file of an unguessable name, never one that exists (no link or other file is ever written through).
  const partial = `${file}.${randomBytes(8).toString("hex")}.partial`;
  const fd = openSync(partial, "wx", 0o600);
  try {
    writeSync(fd, jsonFileText(Object.fromEntries(declared.map((name) => [name, values[name]]))));
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
}
