/**
 * The lab's secrets: generated once per checkout, kept in a git-ignored file only its owner can read, and never
 * replaced behind the user's back (a new gossip key would split a running cluster). They reach Terraform at deploy
 * time as sensitive variables, never through the synthesized JSON.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { derivedUuid } from "../renderers/derived-uuid";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { PROJECT_ROOT } from "../shared/project-paths";
import { jsonFileText } from "../shared/generated-file";

/** Where `npm run secrets` and the first `npm run deploy` write the secrets, relative to the project root. */
export const DEFAULT_SECRETS_FILE = ".secrets/consul-lab.json";
/** Names another secrets file. */
export const SECRETS_FILE_ENV = "CONSUL_LAB_SECRETS_FILE";

export interface LabSecrets {
  /** Consul's gossip encryption key: 32 random bytes, base64. */
  readonly gossipKey: string;
  /** The initial management token's secret ID: for operators (UI, CLI) and the ACL bootstrap. */
  readonly managementToken: string;
  /** Seed of every role token's secret ID (see roleTokenSecret), so adding a node needs no new secret. */
  readonly roleTokenSeed: string;
}

export class SecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsError";
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOW_TO_CREATE = "run `npm run secrets` to create it";

/** New random secrets: a gossip key, a management token and a role token seed. */
export function generateSecrets(): LabSecrets {
  return {
    gossipKey: randomBytes(32).toString("base64"),
    managementToken: randomUUID(),
    roleTokenSeed: randomBytes(32).toString("hex"),
  };
}

function problemsOf(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ["it must hold a JSON object"];
  const fields = value as Record<string, unknown>;
  const problems: string[] = [];
  const gossip = fields.gossipKey;
  if (
    typeof gossip !== "string" ||
    !/^[A-Za-z0-9+/]{43}=$/.test(gossip) ||
    Buffer.from(gossip, "base64").length !== 32
  ) {
    problems.push("gossipKey must be 32 bytes in base64 (as `consul keygen` prints)");
  }
  if (typeof fields.managementToken !== "string" || !UUID.test(fields.managementToken)) {
    problems.push("managementToken must be a lowercase UUID");
  }
  if (typeof fields.roleTokenSeed !== "string" || !/^[0-9a-f]{64}$/.test(fields.roleTokenSeed)) {
    problems.push("roleTokenSeed must be 64 hexadecimal characters");
  }
  const unknown = Object.keys(fields).filter((key) => !["gossipKey", "managementToken", "roleTokenSeed"].includes(key));
  if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(", ")}`);
  return problems;
}

/** Reads and checks the secrets file; every failure says what is wrong and how to fix it, and changes nothing. */
export function readSecrets(file: string): LabSecrets {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    throw new SecretsError(
      `no secrets file at ${file}; ${HOW_TO_CREATE} (npm run deploy also creates it the first time)`,
    );
  }
  if (!stats.isFile()) throw new SecretsError(`${file} is not a regular file; move it away and ${HOW_TO_CREATE}`);
  if ((stats.mode & 0o077) !== 0) {
    throw new SecretsError(
      `${file} can be read by other users (mode ${(stats.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SecretsError(
      `${file} is not valid JSON (${(error as Error).message}); repair it, or restore it from your backup. ` +
        "It is not replaced automatically: a new gossip key would split a running cluster",
    );
  }
  const problems = problemsOf(value);
  if (problems.length > 0) {
    throw new SecretsError(
      `${file} is malformed: ${problems.join("; ")}. Repair it, or restore it from your backup. ` +
        "It is not replaced automatically: a new gossip key would split a running cluster",
    );
  }
  return value as LabSecrets;
}

/** Writes new secrets to a file that must not exist yet, readable by its owner only. */
export function createSecrets(file: string, secrets: LabSecrets = generateSecrets()): LabSecrets {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    // "wx": fail rather than replace a file that appeared meanwhile.
    fd = openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new SecretsError(
        `${file} already exists; it is never replaced (a new gossip key would split a running cluster)`,
      );
    }
    throw error;
  }
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new SecretsError(`cannot make ${file} private to its owner`);
    writeSync(fd, jsonFileText(secrets));
  } finally {
    closeSync(fd);
  }
  return secrets;
}

/** The secrets, created on first use; an existing file is only ever read. */
export function ensureSecrets(file: string): { secrets: LabSecrets; created: boolean } {
  try {
    statSync(file);
  } catch {
    return { secrets: createSecrets(file), created: true };
  }
  return { secrets: readSecrets(file), created: false };
}

/** A role token's secret ID: derived from the seed, so it is stable across deploys and new for every role. */
export function roleTokenSecret(secrets: LabSecrets, role: string): string {
  return derivedUuid(secrets.roleTokenSeed, `secret:${role}`);
}

/** The secrets file: CONSUL_LAB_SECRETS_FILE, or the default, relative to the project root. */
export function secretsFile(env: NodeJS.ProcessEnv): string {
  return resolve(PROJECT_ROOT, env[SECRETS_FILE_ENV] || DEFAULT_SECRETS_FILE);
}
