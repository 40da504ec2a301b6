/**
 * The doctor's look at what the caller's environment would do to Terraform: the variables the CLI leaves out
 * (shared/terraform-environment.ts), and, on a lab over several hosts, whether the Docker provider finds each host's
 * context where the Docker CLI does.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Lab } from "../topology";
import { redirectingVariables, TERRAFORM_ENVIRONMENT } from "../shared/terraform-environment";
import { type CheckResult, ok, problem } from "./check-result";

export function checkTerraformEnvironment(env: NodeJS.ProcessEnv): CheckResult {
  const removed = redirectingVariables(env);
  const kept = TERRAFORM_ENVIRONMENT.filter((entry) => entry.rule === "kept" && env[entry.variable]).map(
    (entry) => entry.variable,
  );
  const parts = [
    removed.length > 0
      ? `${removed.join(", ")} set here: npm run's commands leave them out of Terraform, and npx cdktf refuses to run with them`
      : "nothing that would point Terraform or a provider elsewhere",
    ...(kept.length > 0 ? [`${kept.join(", ")} reach Terraform (how it installs the pinned providers)`] : []),
  ];
  return ok("environment", parts.join("; "));
}

/** Where a Docker context's metadata lives in a store: `<config>/contexts/meta/<sha256 of its name>/meta.json`. */
function contextMeta(configDir: string, name: string): string {
  return join(configDir, "contexts", "meta", createHash("sha256").update(name).digest("hex"), "meta.json");
}

/**
 * The Docker CLI finds contexts under DOCKER_CONFIG (default ~/.docker); the Docker provider only under the user's
 * home from the password database (terraform-provider-docker v3.6.2 internal/provider/provider.go:192-197, 258:
 * user.Current().HomeDir). A context the CLI finds only under DOCKER_CONFIG is one the provider cannot use.
 */
export function checkProviderContexts(
  lab: Lab,
  env: NodeJS.ProcessEnv,
  passwdHome: string = env.CONSUL_LAB_PASSWD_HOME || userInfo().homedir,
): CheckResult | undefined {
  const named = lab.hosts.filter((host) => host.context !== undefined);
  if (named.length === 0) return undefined;
  const providerStore = join(passwdHome, ".docker");
  const cliStore = env.DOCKER_CONFIG || join(env.HOME || passwdHome, ".docker");
  if (resolve(providerStore) === resolve(cliStore))
    return ok("provider contexts", `the Docker provider reads contexts from ${providerStore}, as the Docker CLI does`);
  const unseen = named.filter(
    (host) =>
      !existsSync(contextMeta(providerStore, host.context!)) && existsSync(contextMeta(cliStore, host.context!)),
  );
  if (unseen.length === 0)
    return ok(
      "provider contexts",
      `none of ${named.map((host) => host.context).join(", ")} is only in ${cliStore}, which the Docker provider does not read`,
    );
  return problem(
    "provider contexts",
    `${unseen.map((host) => `context ${host.context} (host ${host.name})`).join(", ")} ${unseen.length > 1 ? "are" : "is"} in ${cliStore}, where the Docker CLI looks; the Docker provider reads contexts only from ${providerStore}`,
    `create ${unseen.length > 1 ? "them" : "it"} there too (docker context export, then DOCKER_CONFIG=${providerStore} docker context import), or give the host an endpoint instead`,
  );
}
