/**
 * Every environment variable Terraform or one of the lab's providers reads that could point the lab at something else
 * or weaken it, read from their source at the versions the lab pins: Terraform v1.11.0, terraform-provider-consul
 * v2.22.1 (with the Consul API client its go.mod pins, github.com/hashicorp/consul/api v1.32.1) and
 * terraform-provider-docker v3.6.2. The one place these facts live: the CLI removes every `removed` variable from
 * each command that runs Terraform (cli/main.ts), and the app `npx cdktf` runs refuses to go on while one is set
 * (cli/cdktf-app.ts), since the cdktf CLI then runs Terraform with that environment.
 */

export interface EnvironmentEntry {
  /** The variable's name, or a prefix ending in `*` (`TF_CLI_ARGS_*`). */
  readonly variable: string;
  readonly readBy: "Terraform" | "the Consul provider" | "the Docker provider";
  /** Where it is read, at the pinned tag. */
  readonly source: string;
  /** What it does to a run of the lab's stacks. */
  readonly effect: string;
  /**
   * - `removed`: never reaches Terraform from the lab's CLI; the cdktf app refuses it.
   * - `engine`: the Docker engine's own variables, which the CLI points at the engine it talks to
   *   (cli/main.ts's pointTerraformAtEngines; on several hosts shared/docker-hosts.ts's variablesOverridingHosts).
   * - `kept`: reaches Terraform: how a machine that cannot reach the Terraform registry installs the pinned
   *   providers (a mirror its CLI configuration names, a cache); .terraform.lock.hcl still checks what is installed.
   */
  readonly rule: "removed" | "engine" | "kept";
}

const CONSUL_API = "consul/api v1.32.1 api.go defaultConfig";
const CONSUL_PROVIDER = "terraform-provider-consul v2.22.1 consul/resource_provider.go";
const DOCKER_PROVIDER = "terraform-provider-docker v3.6.2 internal/provider/provider.go";

export const TERRAFORM_ENVIRONMENT: readonly EnvironmentEntry[] = [
  // The Consul provider starts from consul/api's DefaultConfig(), which reads the environment, and copies over it only
  // the provider settings that are set (consul/config.go:37-74); TLS is then built from the merged values.
  {
    variable: "CONSUL_ADDRESS",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:43`,
    effect: "the API address when the provider sets none",
    rule: "removed",
  },
  {
    variable: "CONSUL_HTTP_ADDR",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:46; ${CONSUL_API}`,
    effect: "the API address when the provider sets none",
    rule: "removed",
  },
  {
    variable: "CONSUL_SCHEME",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:53`,
    effect: "http or https",
    rule: "removed",
  },
  {
    variable: "CONSUL_HTTP_SCHEME",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:56`,
    effect: "http or https",
    rule: "removed",
  },
  { variable: "CONSUL_HTTP_SSL", readBy: "the Consul provider", source: CONSUL_API, effect: "https", rule: "removed" },
  {
    variable: "CONSUL_HTTP_AUTH",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:63; ${CONSUL_API}`,
    effect: "HTTP basic credentials sent with every request",
    rule: "removed",
  },
  {
    variable: "CONSUL_TOKEN",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:130`,
    effect: "the ACL token when the provider sets none",
    rule: "removed",
  },
  {
    variable: "CONSUL_HTTP_TOKEN",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:133; ${CONSUL_API}`,
    effect: "the client's ACL token, which NewClient may replace by the token file's",
    rule: "removed",
  },
  {
    variable: "CONSUL_HTTP_TOKEN_FILE",
    readBy: "the Consul provider",
    source: `${CONSUL_API}; api.go NewClient`,
    effect:
      "replaces the client's token unless the provider's differs from CONSUL_HTTP_TOKEN: a 403, or another cluster's token",
    rule: "removed",
  },
  {
    variable: "CONSUL_CA_FILE",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:70`,
    effect: "ca_file's default, which conflicts with the lab's ca_pem: \"ca_file conflicts with ca_pem\"",
    rule: "removed",
  },
  {
    variable: "CONSUL_CACERT",
    readBy: "the Consul provider",
    source: `${CONSUL_API}; go-rootcerts v1.0.2 rootcerts.go:49-54`,
    effect:
      'a CA file, which go-rootcerts prefers to the lab\'s ca_pem: "certificate signed by unknown authority", or another CA trusted',
    rule: "removed",
  },
  {
    variable: "CONSUL_CAPATH",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:115; ${CONSUL_API}`,
    effect: "a CA folder, used when no CA file or PEM is given",
    rule: "removed",
  },
  {
    variable: "CONSUL_CERT_FILE",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:85`,
    effect: "a client certificate file",
    rule: "removed",
  },
  {
    variable: "CONSUL_KEY_FILE",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:100`,
    effect: "a client key file",
    rule: "removed",
  },
  {
    variable: "CONSUL_CLIENT_CERT",
    readBy: "the Consul provider",
    source: CONSUL_API,
    effect: "a client certificate, loaded over any PEM one",
    rule: "removed",
  },
  {
    variable: "CONSUL_CLIENT_KEY",
    readBy: "the Consul provider",
    source: CONSUL_API,
    effect: "a client key, loaded over any PEM one",
    rule: "removed",
  },
  {
    variable: "CONSUL_TLS_SERVER_NAME",
    readBy: "the Consul provider",
    source: CONSUL_API,
    effect: "the name the server's certificate is checked against; no provider setting overrides it",
    rule: "removed",
  },
  {
    variable: "CONSUL_HTTP_SSL_VERIFY",
    readBy: "the Consul provider",
    source: `${CONSUL_API}; consul/config.go:69-74`,
    effect: "false turns certificate checks off, and the provider's insecure_https = false cannot turn them on again",
    rule: "removed",
  },
  {
    variable: "CONSUL_NAMESPACE",
    readBy: "the Consul provider",
    source: CONSUL_API,
    effect: "an Enterprise namespace on every request (the provider's own namespace setting is never used)",
    rule: "removed",
  },
  {
    variable: "CONSUL_PARTITION",
    readBy: "the Consul provider",
    source: CONSUL_API,
    effect: "an Enterprise admin partition on every request",
    rule: "removed",
  },
  {
    variable: "TFC_WORKLOAD_IDENTITY_TOKEN",
    readBy: "the Consul provider",
    source: `${CONSUL_PROVIDER}:303`,
    effect: "a JWT to log in with, only with use_terraform_cloud_workload_identity, which the lab never sets",
    rule: "removed",
  },

  // The Docker provider builds its client with NewClientWithOpts from its own settings (internal/provider/config.go:85-139),
  // never client.FromEnv: only what its schema defaults from the environment reaches it.
  {
    variable: "DOCKER_HOST",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:47`,
    effect: "the engine, when the provider names none",
    rule: "engine",
  },
  {
    variable: "DOCKER_CONTEXT",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:60, 191-203`,
    effect: "a context whose host replaces the provider's own",
    rule: "engine",
  },
  {
    variable: "DOCKER_CERT_PATH",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:98`,
    effect: "TLS files for a tcp:// engine (and turns an ssh:// one into TLS)",
    rule: "engine",
  },
  {
    variable: "DOCKER_SSH_OPTS",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:68-69; connhelper.go:57`,
    effect: "options for ssh, such as another host key policy or a jump host",
    rule: "removed",
  },
  {
    variable: "DOCKER_CA_MATERIAL",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:79`,
    effect: "a CA trusted for the engine",
    rule: "removed",
  },
  {
    variable: "DOCKER_CERT_MATERIAL",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:85`,
    effect: "a client certificate; with a key and no CA, certificate checks are off (config.go:42-43)",
    rule: "removed",
  },
  {
    variable: "DOCKER_KEY_MATERIAL",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:91`,
    effect: "a client key; see DOCKER_CERT_MATERIAL",
    rule: "removed",
  },
  {
    variable: "DOCKER_REGISTRY_USER",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:117`,
    effect: "registry credentials for a registry_auth block, which the lab never declares",
    rule: "removed",
  },
  {
    variable: "DOCKER_REGISTRY_PASS",
    readBy: "the Docker provider",
    source: `${DOCKER_PROVIDER}:125`,
    effect: "as DOCKER_REGISTRY_USER",
    rule: "removed",
  },

  // Terraform itself.
  {
    variable: "TF_CLI_ARGS",
    readBy: "Terraform",
    source: "terraform v1.11.0 main.go:38, 356-403",
    effect: "arguments added to every command: -var, -lock=false, -auto-approve",
    rule: "removed",
  },
  {
    variable: "TF_CLI_ARGS_*",
    readBy: "Terraform",
    source: "terraform v1.11.0 main.go:266-281",
    effect: "arguments added to one command",
    rule: "removed",
  },
  {
    variable: "TF_DATA_DIR",
    readBy: "Terraform",
    source: "terraform v1.11.0 commands.go:86",
    effect: "one .terraform folder for both stacks: their backend settings and providers mixed",
    rule: "removed",
  },
  {
    variable: "TF_WORKSPACE",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/meta.go:767, 785",
    effect: "another workspace, so another state",
    rule: "removed",
  },
  {
    variable: "TF_REATTACH_PROVIDERS",
    readBy: "Terraform",
    source: "terraform v1.11.0 main.go:207, 407",
    effect: "provider processes already running at given addresses, used in place of the pinned ones",
    rule: "removed",
  },
  {
    variable: "TF_DISABLE_PLUGIN_TLS",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/meta_providers.go:33",
    effect: "no TLS between Terraform and its providers",
    rule: "removed",
  },
  {
    variable: "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/cliconfig/cliconfig.go:31, 247-254",
    effect: "cached providers used without checking them against the lock file",
    rule: "removed",
  },
  {
    variable: "TF_VAR_*",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/meta_vars.go:25, 99-124",
    effect:
      "input variables: each stack's variables file declares all of the lab's and wins over them; the cdktf CLI hides them from its app (@cdktf/cli-core 0.21.0 src/lib/synth-stack.js:85-87), which cannot refuse them",
    rule: "removed",
  },
  {
    variable: "TF_CLI_CONFIG_FILE",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/cliconfig/cliconfig.go:454-456",
    effect: "the CLI configuration: where providers are installed from (a mirror, or dev_overrides), credentials",
    rule: "kept",
  },
  {
    variable: "TERRAFORM_CONFIG",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/cliconfig/cliconfig.go:454-456",
    effect: "as TF_CLI_CONFIG_FILE, read when it is unset",
    rule: "kept",
  },
  {
    variable: "TF_PLUGIN_CACHE_DIR",
    readBy: "Terraform",
    source: "terraform v1.11.0 internal/command/cliconfig/cliconfig.go:30, 239-245",
    effect: "a provider cache, checked against the lock file",
    rule: "kept",
  },
];

function matches(entry: EnvironmentEntry, name: string): boolean {
  return entry.variable.endsWith("*") ? name.startsWith(entry.variable.slice(0, -1)) : name === entry.variable;
}

/** Whether the table removes a variable of this name. */
const isRemoved = (name: string) => environmentEntryOf(name)?.rule === "removed";

/** The `removed` variables set (non-empty) in an environment, sorted. */
export function redirectingVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && env[name] !== "" && isRemoved(name))
    .sort();
}

/** Removes every `removed` variable from `env` in place (set or empty). */
export function removeRedirectingVariables(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env)) if (isRemoved(name)) delete env[name];
}

/** What the table says of one variable, if anything. */
export function environmentEntryOf(name: string): EnvironmentEntry | undefined {
  return TERRAFORM_ENVIRONMENT.find((entry) => matches(entry, name));
}
