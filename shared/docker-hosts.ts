/**
 * How each tool reaches one Docker host of a lab over several hosts (`hosts` in the topology): the Docker CLI and the
 * image build script through environment variables, the Terraform provider through its own settings. One host entry
 * gives both, so the CLI and Terraform always talk to the same engine.
 */
import type { HostSpec, Lab } from "../topology";

/** The Docker CLI's variables that choose an engine; a host sets some and clears the others. */
export const DOCKER_ENGINE_VARIABLES = [
  "DOCKER_HOST",
  "DOCKER_CONTEXT",
  "DOCKER_CERT_PATH",
  "DOCKER_TLS_VERIFY",
] as const;

/**
 * The variables that point the Docker CLI at a host: DOCKER_HOST for an endpoint (with DOCKER_CERT_PATH and
 * DOCKER_TLS_VERIFY for tcp://), DOCKER_CONTEXT for a context. `null` clears a variable the user may have set, since
 * the CLI prefers DOCKER_HOST to DOCKER_CONTEXT and would take a stray certificate folder for this host's.
 */
export function dockerVariablesOf(host: HostSpec): Record<(typeof DOCKER_ENGINE_VARIABLES)[number], string | null> {
  const cleared = Object.fromEntries(DOCKER_ENGINE_VARIABLES.map((name) => [name, null])) as Record<
    (typeof DOCKER_ENGINE_VARIABLES)[number],
    string | null
  >;
  if (host.context !== undefined) return { ...cleared, DOCKER_CONTEXT: host.context };
  if (host.certPath !== undefined)
    return { ...cleared, DOCKER_HOST: host.endpoint!, DOCKER_CERT_PATH: host.certPath, DOCKER_TLS_VERIFY: "1" };
  return { ...cleared, DOCKER_HOST: host.endpoint! };
}

/** `env` with a host's Docker variables applied: set, or removed where the host clears them. */
export function environmentFor(env: NodeJS.ProcessEnv, host: HostSpec | undefined): NodeJS.ProcessEnv {
  if (!host) return env;
  const result: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(dockerVariablesOf(host))) {
    if (value === null) delete result[name];
    else result[name] = value;
  }
  return result;
}

/** The Docker provider's settings for a host: `host` (with `cert_path` for tcp://), or `context`. */
export function providerSettingsOf(host: HostSpec): { host?: string; certPath?: string; context?: string } {
  if (host.context !== undefined) return { context: host.context };
  return { host: host.endpoint, ...(host.certPath !== undefined ? { certPath: host.certPath } : {}) };
}

/**
 * Docker variables the Terraform provider would take over a host's own settings on a lab over several hosts
 * (DOCKER_CONTEXT overrides its `host`; DOCKER_CERT_PATH turns ssh:// into TLS). The CLI removes them before it runs
 * Terraform; `npx cdktf` cannot, so its app refuses them.
 */
export function variablesOverridingHosts(lab: Lab, env: NodeJS.ProcessEnv): string[] {
  return lab.multiHost ? ["DOCKER_CONTEXT", "DOCKER_CERT_PATH"].filter((name) => env[name]) : [];
}
