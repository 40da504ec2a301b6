// Applies the lab's ACL plan to a running cluster: creates or updates every policy, a token per role with the
// secret the deploy derived for it, deletes the lab's tokens the plan no longer lists, and leaves the anonymous token
// without policies. Idempotent; run by the cluster stack
// (a terraform_data local-exec) once the cluster has a leader.
//
// Environment (Terraform runs it in the cluster stack's directory, so its files are relative to that):
//   CONSUL_HTTP_ADDR                host:port of an agent (the published API)
//   CONSUL_LAB_ACL_PLAN_FILE        the plan (renderers/acl-plan.ts) as a JSON file, written beside cdk.tf.json
//   CONSUL_LAB_ACL_PLAN_SHA256      its digest as synthesized: a file from another synth is refused
//   CONSUL_LAB_SECRET_VARIABLES_FILE  the stack's variables file (secrets/stack-variables.ts), which Terraform reads
//                                   too; the script reads its secrets there, so none is in its own configuration and
//                                   Terraform shows this script's output instead of hiding it as sensitive
//   CONSUL_LAB_MANAGEMENT_TOKEN_VARIABLE, CONSUL_LAB_ROLE_TOKENS_VARIABLE
//                                   the names of the management token and of {"<role>": "<secret ID>"} in that file
//   CONSUL_LAB_ACL_ATTEMPTS, CONSUL_LAB_ACL_RETRY_MS  how long to wait for a leader and the management token
//                                   (default 60 tries, 1000 ms apart)
// @ts-check
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";

/** @typedef {import("../../renderers/acl-plan").AclPlan} AclPlan */
/** @typedef {AclPlan["policies"][number]} PolicySpec */
/** @typedef {AclPlan["tokens"][number]} TokenSpec */

/** @returns {never} */
function fail(message) {
  console.error(`acl-bootstrap: ${message}`);
  process.exit(1);
}

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

/** A file's text, or a clear failure naming it and the fix. */
function readText(path, what, fix) {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    fail(`cannot read ${what} ${path} (${error.code ?? error.message}); ${fix}`);
  }
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`${what} is not valid JSON: ${error.message}`);
  }
}

const address = process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const base = /^https?:\/\//.test(address) ? address : `http://${address}`;

const planFile = required("CONSUL_LAB_ACL_PLAN_FILE");
const planText = readText(planFile, "the ACL plan", "synthesize again");
const planSha256 = createHash("sha256").update(planText).digest("hex");
if (planSha256 !== required("CONSUL_LAB_ACL_PLAN_SHA256")) {
  fail(`${planFile} is not the plan this configuration was synthesized with (sha256 ${planSha256}); synthesize again`);
}
/** @type {AclPlan} */
const plan = parseJson(planText, planFile);

const variablesFile = required("CONSUL_LAB_SECRET_VARIABLES_FILE");
const variables = parseJson(
  readText(variablesFile, "the stack's secret variables", "run `npm run secrets`, or deploy with `npm run deploy`"),
  variablesFile,
);
const token = variables[required("CONSUL_LAB_MANAGEMENT_TOKEN_VARIABLE")];
const secrets = variables[required("CONSUL_LAB_ROLE_TOKENS_VARIABLE")];
if (typeof token !== "string" || !token) fail(`${variablesFile} holds no management token`);
if (!secrets || typeof secrets !== "object") fail(`${variablesFile} holds no role tokens`);
const attempts = Number(process.env.CONSUL_LAB_ACL_ATTEMPTS ?? 60);
const retryMs = Number(process.env.CONSUL_LAB_ACL_RETRY_MS ?? 1000);
const pause = () => new Promise((resolve) => setTimeout(resolve, retryMs));

/** One API call; retried while the cluster has no leader yet or cannot be reached. */
async function call(method, path, body) {
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { "X-Consul-Token": token, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (attempt >= attempts) fail(`cannot reach Consul at ${base}: ${error.cause?.message ?? error.message}`);
      await pause();
      continue;
    }
    const text = await response.text();
    const retryable = response.status >= 500 || /No cluster leader|ACL system must be bootstrapped/i.test(text);
    if (retryable && attempt < attempts) {
      await pause();
      continue;
    }
    return { status: response.status, text, json: () => JSON.parse(text) };
  }
}

/** Consul answers a read of a missing ACL object with 403 "ACL not found" (or 404), and a denied one with 403 too. */
function isMissing(result) {
  return result.status === 404 || (result.status === 403 && /not found/i.test(result.text));
}

function expectOk(result, what) {
  if (result.status !== 200) fail(`${what} failed: HTTP ${result.status} ${result.text.trim()}`);
  return result.json();
}

/** @param {PolicySpec} policy */
async function applyPolicy(policy) {
  const existing = await call("GET", `/v1/acl/policy/name/${encodeURIComponent(policy.name)}`);
  const body = { Name: policy.name, Description: policy.description, Rules: policy.rules };
  if (existing.status === 200) {
    const current = existing.json();
    if (current.Rules === policy.rules && current.Description === policy.description) return "unchanged";
    expectOk(await call("PUT", `/v1/acl/policy/${current.ID}`, body), `updating policy ${policy.name}`);
    return "updated";
  }
  if (!isMissing(existing)) fail(`reading policy ${policy.name}: HTTP ${existing.status} ${existing.text.trim()}`);
  expectOk(await call("PUT", "/v1/acl/policy", body), `creating policy ${policy.name}`);
  return "created";
}

/** @param {TokenSpec} spec */
async function applyToken(spec) {
  const secret = secrets[spec.role];
  if (!secret) fail(`no secret for role "${spec.role}" in the role tokens`);
  const body = {
    AccessorID: spec.accessorId,
    SecretID: secret,
    Description: spec.description,
    Policies: spec.policies.map((name) => ({ Name: name })),
  };
  const existing = await call("GET", `/v1/acl/token/${spec.accessorId}`);
  if (existing.status === 200) {
    const current = existing.json();
    if (current.SecretID !== secret) {
      // A secret ID cannot change in place: a rotated seed replaces the token.
      expectOk(await call("DELETE", `/v1/acl/token/${spec.accessorId}`), `deleting the rotated token ${spec.role}`);
      expectOk(await call("PUT", "/v1/acl/token", body), `creating token ${spec.role}`);
      return "rotated";
    }
    const policies = (current.Policies ?? [])
      .map((policy) => policy.Name)
      .sort()
      .join(",");
    if (current.Description === spec.description && policies === [...spec.policies].sort().join(","))
      return "unchanged";
    expectOk(await call("PUT", `/v1/acl/token/${spec.accessorId}`, body), `updating token ${spec.role}`);
    return "updated";
  }
  if (!isMissing(existing)) fail(`reading token ${spec.role}: HTTP ${existing.status} ${existing.text.trim()}`);
  expectOk(await call("PUT", "/v1/acl/token", body), `creating token ${spec.role}`);
  return "created";
}

/**
 * The servers create the initial management token only once they have elected a leader, and Consul answers both an
 * unknown token and an unknown object with 403 "ACL not found": wait until our token is known before reading objects.
 */
async function waitForManagementToken() {
  for (let attempt = 1; ; attempt++) {
    const self = await call("GET", "/v1/acl/token/self");
    if (self.status === 200) return;
    if (attempt >= attempts) fail(`the management token is not accepted: HTTP ${self.status} ${self.text.trim()}`);
    await pause();
  }
}

/** A role token's accessor ID as the plan derives it (renderers/derived-uuid.ts and acl-plan.ts roleAccessorId). */
function derivedAccessorId(role) {
  const bytes = createHmac("sha256", plan.accessorIdKey).update(`accessor:${role}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether a token is one this lab made: its description names a role as the plan's do (or as they did before the
 * lab's name was in them, `consul-lab <role>: ...`), and its accessor ID is the one derived for that role. A
 * description alone proves nothing: an operator's own token may read `consul-lab ops: ...`.
 */
function ownedByLab(token) {
  const description = token.Description ?? "";
  const role = description.startsWith(plan.ownedTokenDescriptionPrefix)
    ? /^([A-Za-z0-9_-]+): /.exec(description.slice(plan.ownedTokenDescriptionPrefix.length))?.[1]
    : /^consul-lab ([A-Za-z0-9_-]+): /.exec(description)?.[1];
  return role !== undefined && token.AccessorID === derivedAccessorId(role);
}

/** Deletes the tokens this lab made (their description says so) that the plan no longer lists. */
async function removeStaleTokens() {
  const planned = new Set(plan.tokens.map((spec) => spec.accessorId));
  /** @type {{ AccessorID: string; Description?: string }[]} */
  const tokens = expectOk(await call("GET", "/v1/acl/tokens"), "listing the tokens");
  for (const token of tokens) {
    if (!ownedByLab(token) || planned.has(token.AccessorID)) continue;
    expectOk(await call("DELETE", `/v1/acl/token/${token.AccessorID}`), `deleting the stale token ${token.AccessorID}`);
    console.log(`acl-bootstrap: token ${token.AccessorID} (${token.Description}): deleted, no longer in the plan`);
  }
}

await waitForManagementToken();
for (const policy of plan.policies) console.log(`acl-bootstrap: policy ${policy.name}: ${await applyPolicy(policy)}`);
for (const spec of plan.tokens)
  console.log(`acl-bootstrap: token ${spec.role} (${spec.accessorId}): ${await applyToken(spec)}`);
await removeStaleTokens();
const { accessorId: anonymousId, policies: anonymousPolicies } = plan.anonymousToken;
const anonymous = expectOk(await call("GET", `/v1/acl/token/${anonymousId}`), "reading the anonymous token");
expectOk(
  await call("PUT", `/v1/acl/token/${anonymousId}`, {
    AccessorID: anonymousId,
    Description: anonymous.Description,
    Policies: anonymousPolicies.map((name) => ({ Name: name })),
  }),
  "setting the anonymous token's policies",
);
console.log(`acl-bootstrap: anonymous token: ${anonymousPolicies.join(", ") || "no policy"}`);
