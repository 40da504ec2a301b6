/**
 * The twin's apply: what `terraform apply` of the cluster stack does, done here step by step on a real engine, from
 * the synthesized JSON, with the twin's images in place of the pinned ones. Strings are Terraform's templates, so
 * every string that reaches a container (uploads, environment, commands) is evaluated by Terraform itself
 * (`terraform apply` of outputs over the stack's own variables, with this run's secrets); containers are made as the
 * Docker provider makes them at v3.6.2 (internal/provider/resource_docker_container_funcs.go: create, then for
 * networks_advanced disconnect from `bridge` and connect with the static address, lines 420-453; then each upload as
 * a one-file tar at `/`, mode 0644 or 0744, lines 455-533; then start, line 538). The stack's own deploy-time scripts
 * run as their local-exec provisioners declare them. Anything in the synth the harness does not know fails the run.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecrets, DEFAULT_SECRETS_FILE, DEFAULT_TLS_DIR, ensureLabTls } from "../../secrets";
import { secretVariableValues, STACK_VARIABLES_LINK } from "../../secrets/stack-variables";
import { LAB_CA_LINK } from "../../stacks/secret-variables";
import { type Lab } from "../../topology";
import { labOf } from "../tools/helpers";
import { PROJECT_ROOT, runApp } from "../tools/synth";
import { createNetwork, docker, dockerOk, settingArgs, TEST_IMAGE } from "./engine";
import { consulTwinImage, dnsmasqTwinImage, loadBalancerTwinImage, nginxTwinImage } from "./twin-images";

type Resource = Record<string, any>;
type Stack = { resource: Record<string, Record<string, Resource>>; variable: Record<string, Resource>; provider?: any };

export interface Twin {
  readonly lab: Lab;
  /** The cluster stack as synthesized. */
  readonly stack: Stack;
  /** The consul stack as synthesized. */
  readonly consulStack: Stack;
  /** The stack's directory as Terraform runs it: three levels below a root with the project's scripts. */
  readonly stackDir: string;
  readonly tlsDir: string;
  readonly managementToken: string;
  /** Each string of the stack that reaches a container, as Terraform evaluates it. */
  /** Each string as Terraform evaluates it: a string, or a map or list where the expression makes one. */
  readonly evaluated: ReadonlyMap<string, any>;
}

/**
 * The images the synth names, and the twin's image for each: a pinned image by its name without the tag, an image the
 * lab builds by its build context (`asset:<folder of assets/>`); an image not listed fails the apply.
 */
const TWIN_IMAGES: Record<string, (env: NodeJS.ProcessEnv) => string> = {
  "hashicorp/consul": consulTwinImage,
  "asset:dnsmasq": dnsmasqTwinImage,
  "asset:load-balancer": loadBalancerTwinImage,
  nginx: nginxTwinImage,
  // The namespace holder runs only `/bin/sh` and `sleep`: Alpine's are BusyBox, as the test image's are.
  alpine: () => TEST_IMAGE,
};

/**
 * Every argument of a synthesized container, and what the twin's apply does with it; an argument not listed fails
 * the apply, so a new one is a decision, not an accident.
 */
const CONTAINER_ARGUMENTS: Record<string, string> = {
  name: "passed",
  hostname: "passed",
  labels: "passed",
  restart: "passed",
  dns: "passed",
  dns_opts: "passed",
  dns_search: "passed",
  network_mode: "passed, the namespace container's name for its reference",
  networks_advanced: "connected after create, as the provider does",
  ports: "passed",
  env: "passed, as Terraform evaluates it",
  capabilities: "passed",
  security_opts: "passed",
  read_only: "passed",
  memory: "passed",
  memory_swap: "passed",
  entrypoint: "passed, as Terraform evaluates it",
  command: "passed, as Terraform evaluates it",
  user: "passed",
  healthcheck: "passed",
  image: "the twin's image for the pinned one (TWIN_IMAGES)",
  upload: "copied after create, before start, as the provider does",
  volumes: "the named volume, created first",
  "//": "cdktf's metadata",
  must_run: "a Terraform-side setting",
  wait: "a Terraform-side setting",
  wait_timeout: "a Terraform-side setting",
  depends_on: "Terraform's ordering: the twin creates namespaces before what joins them",
  provider: "Terraform's choice of engine: the twin sends each container to its host's engine",
  lifecycle: "Terraform's read-back rules",
};

/**
 * Synthesizes the lab of a topology file and prepares its secrets, TLS and stack directory as a deploy does: the
 * secrets file and the TLS folder at their default places under `checkout` (a LabCheckout's root, where the CLI run
 * against the twin finds them), or in a folder of their own.
 */
export function prepareTwin(topologyFile: string, checkout?: string): Twin {
  const run = runApp({ CONSUL_LAB_TOPOLOGY: topologyFile });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
  const synthesizedDir = join(run.outdir, "stacks", "cluster");
  const stack = JSON.parse(readFileSync(join(synthesizedDir, "cdk.tf.json"), "utf8"));
  const consulStack = JSON.parse(readFileSync(join(run.outdir, "stacks", "consul", "cdk.tf.json"), "utf8"));
  const lab = labOf(JSON.parse(readFileSync(topologyFile, "utf8")));
  const secretsRoot = checkout ?? mkdtempSync(join(tmpdir(), "consul-twin-secrets-"));
  const secrets = createSecrets(join(secretsRoot, DEFAULT_SECRETS_FILE));
  const tlsDir = join(secretsRoot, DEFAULT_TLS_DIR);
  const values = secretVariableValues(lab, secrets, ensureLabTls(lab, tlsDir));
  const root = mkdtempSync(join(tmpdir(), "consul-twin-root-"));
  const stackDir = join(root, "cdktf.out", "stacks", "cluster");
  mkdirSync(stackDir, { recursive: true });
  symlinkSync(join(PROJECT_ROOT, "scripts"), join(root, "scripts"));
  symlinkSync(join(tlsDir, "ca.pem"), join(stackDir, LAB_CA_LINK));
  for (const file of ["acl-plan.json", "cdk.tf.json"])
    writeFileSync(join(stackDir, file), readFileSync(join(synthesizedDir, file)));
  const declared = Object.fromEntries(Object.keys(stack.variable ?? {}).map((name) => [name, values[name]]));
  writeFileSync(join(stackDir, STACK_VARIABLES_LINK), JSON.stringify(declared));
  return {
    lab,
    stack,
    consulStack,
    stackDir,
    tlsDir,
    managementToken: secrets.managementToken,
    evaluated: evaluateStrings(
      stack,
      consulStack,
      {
        ...declared,
        ...Object.fromEntries(Object.keys(consulStack.variable ?? {}).map((name) => [name, values[name]])),
      },
      join(run.outdir, "stacks", "consul"),
    ),
  };
}

/** Whether a string refers to a resource (which the apply resolves itself) rather than to variables only. */
const RESOURCE_REFERENCE = /\$\{(docker_|terraform_data\.)/;

/** The strings of the stack's containers that Terraform evaluates, each as `terraform apply` of an output gives it. */
function evaluateStrings(
  stack: Stack,
  consulStack: Stack,
  variables: Record<string, unknown>,
  consulStackDir: string,
): Map<string, any> {
  const strings = new Set<string>();
  // The consul stack's provider settings and every string its resources give the provider.
  const leaves = (value: unknown): void => {
    if (typeof value === "string") {
      // `each.` lives inside a dynamic block, which keyBlocks expands.
      if (!RESOURCE_REFERENCE.test(value) && !/\$\{(consul_|each\.)/.test(value)) strings.add(value);
    } else if (Array.isArray(value)) value.forEach(leaves);
    else if (value && typeof value === "object")
      for (const [key, inner] of Object.entries(value)) if (key !== "//" && key !== "depends_on") leaves(inner);
  };
  leaves(consulStack.provider?.consul);
  for (const resources of Object.values(consulStack.resource)) leaves(resources);
  for (const container of Object.values(stack.resource.docker_container)) {
    for (const upload of container.upload ?? []) strings.add(upload.content);
    for (const entry of [...(container.env ?? []), ...(container.entrypoint ?? []), ...(container.command ?? [])])
      strings.add(entry);
  }
  const list = [...strings];
  const referring = list.filter((text) => RESOURCE_REFERENCE.test(text));
  if (referring.length > 0) throw new Error(`the twin cannot evaluate strings that refer to resources: ${referring}`);
  const dir = mkdtempSync(join(tmpdir(), "consul-twin-evaluate-"));
  const outputs = Object.fromEntries(list.map((text, index) => [`s${index}`, { value: text, sensitive: true }]));
  const variableBlocks = { ...consulStack.variable, ...stack.variable };
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ variable: variableBlocks, output: outputs }));
  writeFileSync(join(dir, "values.auto.tfvars.json"), JSON.stringify(variables));
  // The files the consul stack reads from its own folder (path.module), such as its KV data.
  for (const file of readdirSync(consulStackDir))
    if (file !== "cdk.tf.json") writeFileSync(join(dir, file), readFileSync(join(consulStackDir, file)));
  const terraform = (args: string[]) => {
    const result = spawnSync("terraform", args, {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" },
      maxBuffer: 1 << 28,
    });
    if (result.status !== 0) throw new Error(`terraform ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  };
  terraform(["init", "-input=false", "-no-color"]);
  terraform(["apply", "-auto-approve", "-input=false", "-no-color"]);
  const values = JSON.parse(terraform(["output", "-json"]));
  return new Map(list.map((text, index) => [text, values[`s${index}`].value]));
}

/** A one-file tar as the provider builds it for an upload (uid and gid 0, the mode it chose). */
function uploadTar(file: string, content: string, mode: number): Buffer {
  const body = Buffer.from(content, "utf8");
  const header = Buffer.alloc(512);
  const name = file.replace(/^\//, "");
  if (Buffer.byteLength(name) > 100) throw new Error(`the twin's tar writer takes names of up to 100 bytes: ${file}`);
  header.write(name, 0);
  header.write(`${mode.toString(8).padStart(7, "0")}\0`, 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

function evaluatedOf(twin: Twin, text: string): string {
  const value = twin.evaluated.get(text);
  if (typeof value !== "string")
    throw new Error(`the twin has no string evaluation of ${JSON.stringify(text).slice(0, 80)}`);
  return value;
}

/** The twin's image for a container's synthesized `image` reference. */
function imageOf(twin: Twin, container: Resource, env: NodeJS.ProcessEnv): string {
  const reference = /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(container.image);
  if (!reference) throw new Error(`${container.name}: an image reference the twin does not know: ${container.image}`);
  const image = twin.stack.resource.docker_image[reference[1]];
  // An image the lab builds depends on its build step, whose context names the asset it is built from.
  const builds = (image.depends_on ?? []).map((dependency: string) => /^terraform_data\.(.+)$/.exec(dependency)?.[1]);
  const contexts = builds
    .filter(Boolean)
    .flatMap((build: string) => twin.stack.resource.terraform_data[build].provisioner ?? [])
    .map((step: Resource) => step["local-exec"]?.environment?.CONSUL_LAB_IMAGE_CONTEXT)
    .filter(Boolean);
  const key =
    contexts.length === 1
      ? `asset:${String(contexts[0]).split("/").pop()}`
      : String(image.name).replace(/:[^:/]+$/, "");
  const twinImage = TWIN_IMAGES[key];
  if (!twinImage) throw new Error(`${container.name}: the twin has no image for ${image.name} (${key})`);
  return twinImage(env);
}

/** Every role of the lab's containers: what the twin runs for the whole lab. */
export const TWIN_ROLES = ["netns", "agent", "dns", "app", "sorry", "entry", "load-balancer"] as const;

export interface ApplyOptions {
  /** The roles whose containers the twin runs; the others it leaves out, by name. */
  readonly roles: readonly string[];
  /** The engine of a host, by its name (a lab over several hosts); the private engine otherwise. */
  readonly engineOf?: (host: string | undefined) => NodeJS.ProcessEnv;
  /** Starts a container its own way (a start that retries a swarm attach). */
  readonly start?: (name: string, env: NodeJS.ProcessEnv) => void;
}

const labelOf = (resource: Resource, label: string): string | undefined =>
  (resource.labels ?? []).find((entry: Resource) => entry.label === label)?.value;

/** Creates the lab's network, and the volumes and containers of the given roles, as the provider does. */
export function applyContainers(twin: Twin, options: ApplyOptions): void {
  const { stack } = twin;
  const engineOf = options.engineOf ?? (() => process.env);
  const network = Object.values(stack.resource.docker_network)[0];
  createNetwork(
    { network },
    engineOf(network.provider ? String(network.provider).replace(/^docker\./, "") : undefined),
  );

  const entries = Object.entries(stack.resource.docker_container).filter(([, container]) =>
    options.roles.includes(labelOf(container, "consul-lab.role") ?? ""),
  );
  const joins = (container: Resource) => String(container.network_mode ?? "").startsWith("container:");
  for (const [, container] of [...entries.filter(([, c]) => !joins(c)), ...entries.filter(([, c]) => joins(c))])
    createContainer(twin, container, options);
}

/** Each container's name by its resource key: what a `network_mode = container:${...id}` reference names. */
function containerNames(twin: Twin): Record<string, string> {
  return Object.fromEntries(
    Object.entries(twin.stack.resource.docker_container).map(([key, container]) => [key, container.name as string]),
  );
}

/**
 * Creates and starts one synthesized container as the provider does (its volumes first); `image` replaces the twin's
 * image for it (a changed image, as a new pin would make it).
 */
function createContainer(twin: Twin, container: Resource, options: Omit<ApplyOptions, "roles">, image?: string): void {
  const { lab, stack } = twin;
  const engineOf = options.engineOf ?? (() => process.env);
  const hostOfNode = (node: string | undefined) => (node ? lab.hostOf(node)?.name : undefined);
  const network = Object.values(stack.resource.docker_network)[0];
  const volumes = stack.resource.docker_volume ?? {};
  const names = containerNames(twin);
  const unknown = Object.keys(container).filter((argument) => !(argument in CONTAINER_ARGUMENTS));
  if (unknown.length > 0) throw new Error(`${container.name}: the twin's apply does not know ${unknown.join(", ")}`);
  const env = engineOf(hostOfNode(labelOf(container, "consul-lab.node")));
  const args = ["create", ...settingArgs(container, (text) => evaluatedOf(twin, text))];
  if (container.user) args.push("--user", container.user);
  for (const volume of container.volumes ?? []) {
    const reference = /^\$\{docker_volume\.([^.]+)\.name\}$/.exec(volume.volume_name);
    if (!reference || !volumes[reference[1]])
      throw new Error(`${container.name}: unknown volume ${volume.volume_name}`);
    const declared = volumes[reference[1]];
    const labels = (declared.labels ?? []).flatMap(({ label, value }: Resource) => ["--label", `${label}=${value}`]);
    dockerOk(["volume", "create", ...labels, declared.name], env);
    args.push("--volume", `${declared.name}:${volume.container_path}`);
  }
  const health = container.healthcheck;
  if (health) {
    if (health.test?.[0] !== "CMD-SHELL") throw new Error(`${container.name}: a healthcheck the twin does not know`);
    args.push("--health-cmd", health.test[1], "--health-interval", health.interval, "--health-timeout", health.timeout);
    args.push("--health-retries", String(health.retries), "--health-start-period", health.start_period);
  }
  const joined = /^container:\$\{docker_container\.([^.]+)\.id\}$/.exec(container.network_mode ?? "");
  if (joined) args.push("--network", `container:${names[joined[1]]}`);
  else if (container.network_mode && container.network_mode !== "bridge")
    throw new Error(`${container.name}: network_mode ${container.network_mode}`);
  const hasBridge = docker(["network", "inspect", "bridge"], env).status === 0;
  // On an engine without the default bridge (the hosts' dockerd run with --bridge none), create on the lab's network
  // at once: the provider's create would fail there, and a lab over several hosts needs none.
  const advanced = container.networks_advanced ?? [];
  if (!joined && advanced.length > 0 && !hasBridge)
    args.push("--network", network.name, "--ip", advanced[0].ipv4_address);
  if (container.entrypoint) args.push("--entrypoint", evaluatedOf(twin, container.entrypoint[0]));
  args.push(image ?? imageOf(twin, container, env));
  if (container.entrypoint) args.push(...container.entrypoint.slice(1).map((part: string) => evaluatedOf(twin, part)));
  args.push(...(container.command ?? []).map((part: string) => evaluatedOf(twin, part)));
  dockerOk(args, env);
  if (!joined && advanced.length > 0 && hasBridge) {
    dockerOk(["network", "disconnect", "bridge", container.name], env);
    for (const attachment of advanced)
      dockerOk(["network", "connect", "--ip", attachment.ipv4_address, network.name, container.name], env);
  }
  for (const upload of container.upload ?? []) {
    // The provider's mode (resource_docker_container_funcs.go): `permissions` in octal, else 0744 when executable,
    // else 0644; the tar header names no owner, so the file is root's.
    const mode = upload.permissions ? parseInt(upload.permissions, 8) : upload.executable ? 0o744 : 0o644;
    const tar = uploadTar(upload.file, evaluatedOf(twin, upload.content), mode);
    const copied = spawnSync("docker", ["cp", "-", `${container.name}:/`], { input: tar, env });
    if (copied.status !== 0) throw new Error(`upload of ${upload.file} to ${container.name}: ${copied.stderr}`);
  }
  if (options.start) options.start(container.name, env);
  else dockerOk(["start", container.name], env);
}

/**
 * Replaces one synthesized container as a plan that replaces it does: the old one removed (its named volumes kept),
 * the new one created and started, with `image` in place of the twin's image when given.
 */
export function replaceContainer(
  twin: Twin,
  name: string,
  options: Omit<ApplyOptions, "roles"> & { image?: string } = {},
): void {
  const container = Object.values(twin.stack.resource.docker_container).find((candidate) => candidate.name === name);
  if (!container) throw new Error(`the cluster stack has no container ${name}`);
  const node = labelOf(container, "consul-lab.node");
  const env = (options.engineOf ?? (() => process.env))(node ? twin.lab.hostOf(node)?.name : undefined);
  dockerOk(["rm", "--force", name], env);
  createContainer(twin, container, options, options.image);
}

/**
 * Runs a terraform_data resource's local-exec provisioner as Terraform runs it (`/bin/sh -c` in the stack's directory,
 * its own environment and the provisioner's: internal/builtin/provisioners/local-exec/resource_provisioner.go at
 * v1.11.0, lines 122 and 148); `inside` runs it in another network namespace (a host of a lab over several).
 */
export function runProvisioner(
  twin: Twin,
  script: string,
  inside?: string,
): { status: number; stdout: string; stderr: string } {
  const matching = Object.values(twin.stack.resource.terraform_data).filter((resource) =>
    JSON.stringify(resource.provisioner ?? []).includes(script),
  );
  if (matching.length !== 1) throw new Error(`${matching.length} provisioners run ${script}`);
  const exec = matching[0].provisioner.find((step: Resource) => step["local-exec"])["local-exec"];
  const unknown = Object.keys(exec).filter((key) => !["command", "environment"].includes(key));
  if (unknown.length > 0) throw new Error(`local-exec settings the twin does not know: ${unknown.join(", ")}`);
  const [program, args] = inside
    ? ["nsenter", [`--net=${inside}`, "/bin/sh", "-c", exec.command]]
    : ["/bin/sh", ["-c", exec.command]];
  const result = spawnSync(program, args, {
    cwd: twin.stackDir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...exec.environment },
    timeout: 240_000,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/**
 * The calls the Consul provider (terraform-provider-consul v2.22.1, consul/resource_consul_*.go) makes to create each
 * resource of the consul stack, in their dependency order; an attribute or a resource type not listed fails the apply.
 */
const CONSUL_RESOURCES: Record<
  string,
  { attributes: readonly string[]; calls: (r: Resource, dc: string) => Resource[] }
> = {
  // resource_consul_autopilot_config.go: AutopilotSetConfiguration, then a read.
  consul_autopilot_config: {
    attributes: [
      "datacenter",
      "cleanup_dead_servers",
      "last_contact_threshold",
      "max_trailing_logs",
      "server_stabilization_time",
    ],
    calls: (r, dc) => [
      {
        method: "PUT",
        path: `/v1/operator/autopilot/configuration?dc=${dc}`,
        body: {
          CleanupDeadServers: r.cleanup_dead_servers,
          LastContactThreshold: r.last_contact_threshold,
          MaxTrailingLogs: r.max_trailing_logs,
          ServerStabilizationTime: r.server_stabilization_time,
        },
      },
      { method: "GET", path: `/v1/operator/autopilot/configuration?dc=${dc}` },
    ],
  },
  // resource_consul_keys.go: keyClient.Put per key, then a read of each. Terraform expands a dynamic key block
  // before the provider sees it: one block per entry of its for_each map.
  consul_keys: {
    attributes: ["datacenter", "key", "dynamic"],
    calls: (r, dc) =>
      keyBlocks(r).flatMap((key: Resource) => [
        { method: "PUT", path: `/v1/kv/${key.path}?dc=${dc}`, body: key.value },
        { method: "GET", path: `/v1/kv/${key.path}?dc=${dc}` },
      ]),
  },
  // resource_consul_node.go: Catalog().Register of the node.
  consul_node: {
    attributes: ["datacenter", "name", "address"],
    calls: (r, dc) => [
      {
        method: "PUT",
        path: `/v1/catalog/register?dc=${dc}`,
        body: { Datacenter: dc, Node: r.name, Address: r.address },
      },
    ],
  },
  // resource_consul_service.go getCatalogRegistration: the node must exist; the service registered with
  // SkipNodeUpdate at the node's address.
  consul_service: {
    attributes: ["datacenter", "name", "node", "tags"],
    calls: (r, dc) => [
      { method: "GET", path: `/v1/catalog/node/${r.node}?dc=${dc}` },
      {
        method: "PUT",
        path: `/v1/catalog/register?dc=${dc}`,
        body: { Datacenter: dc, Node: r.node, Service: { Service: r.name, Tags: r.tags }, SkipNodeUpdate: true },
      },
      { method: "GET", path: `/v1/catalog/service/${r.name}?dc=${dc}` },
    ],
  },
  // resource_consul_prepared_query.go: PreparedQuery().Create.
  consul_prepared_query: {
    attributes: ["datacenter", "name", "service", "only_passing", "tags", "dns"],
    calls: (r, dc) => [
      {
        method: "POST",
        path: `/v1/query?dc=${dc}`,
        body: {
          Name: r.name,
          Service: { Service: r.service, OnlyPassing: r.only_passing ?? false, Tags: r.tags ?? [] },
          DNS: { TTL: r.dns?.ttl ?? "" },
        },
      },
    ],
  },
};

/** A consul_keys resource's key blocks: written out, or the one dynamic shape the lab synthesizes, expanded. */
function keyBlocks(r: Resource): Resource[] {
  if (!r.dynamic) return r.key;
  const { for_each: entries, iterator, content, ...rest } = r.dynamic.key ?? {};
  const modelled = iterator === "each" && content?.path === "${each.key}" && content?.value === "${each.value}";
  if (!modelled || Object.keys(rest).length > 0 || Object.keys(r.dynamic).length !== 1 || typeof entries !== "object")
    throw new Error(
      `the twin models only a dynamic key block of each.key and each.value: ${JSON.stringify(r.dynamic)}`,
    );
  return Object.entries(entries).map(([path, value]) => ({ path, value }));
}

/**
 * Applies the consul stack to the twin's cluster as the Consul provider would, through the API its provider block
 * names (address, scheme, the lab CA, the terraform role's token); `inside` runs it in another network namespace.
 */
export function applyConsulStack(twin: Twin, inside?: string): string {
  const provider = twin.consulStack.provider?.consul?.[0];
  const known = ["address", "scheme", "ca_pem", "token", "datacenter"];
  const unknownSettings = Object.keys(provider ?? {}).filter((key) => !known.includes(key));
  if (!provider || unknownSettings.length > 0)
    throw new Error(`the consul provider settings the twin does not know: ${unknownSettings.join(", ")}`);
  const value = (text: string) => twin.evaluated.get(text) ?? text;
  const evaluate = (resource: unknown): any =>
    typeof resource === "string"
      ? value(resource)
      : Array.isArray(resource)
        ? resource.map(evaluate)
        : resource && typeof resource === "object"
          ? Object.fromEntries(Object.entries(resource).map(([key, inner]) => [key, evaluate(inner)]))
          : resource;
  const names: Record<string, string> = {};
  const calls: Resource[] = [];
  const order = ["consul_autopilot_config", "consul_keys", "consul_node", "consul_service", "consul_prepared_query"];
  const unknownTypes = Object.keys(twin.consulStack.resource).filter((type) => !order.includes(type));
  if (unknownTypes.length > 0) throw new Error(`the twin cannot apply ${unknownTypes.join(", ")}`);
  for (const type of order) {
    for (const [key, raw] of Object.entries(twin.consulStack.resource[type] ?? {})) {
      const resource = evaluate(raw);
      const unknown = Object.keys(resource).filter(
        (attribute) => !["//", "depends_on", ...CONSUL_RESOURCES[type].attributes].includes(attribute),
      );
      if (unknown.length > 0) throw new Error(`${type}.${key}: the twin does not know ${unknown.join(", ")}`);
      if (typeof resource.node === "string")
        resource.node = resource.node.replace(
          /^\$\{consul_node\.([^.]+)\.name\}$/,
          (_: string, node: string) => names[node],
        );
      if (type === "consul_node") names[key] = resource.name;
      calls.push(...CONSUL_RESOURCES[type].calls(resource, value(provider.datacenter)));
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "consul-twin-calls-"));
  writeFileSync(join(dir, "ca.pem"), value(provider.ca_pem));
  const plan = {
    address: value(provider.address),
    scheme: value(provider.scheme),
    caFile: join(dir, "ca.pem"),
    token: value(provider.token),
    calls,
  };
  writeFileSync(join(dir, "calls.json"), JSON.stringify(plan));
  const command = [process.execPath, join(__dirname, "twin-consul-calls.mjs"), join(dir, "calls.json")];
  const result = inside
    ? spawnSync("nsenter", [`--net=${inside}`, ...command], { encoding: "utf8" })
    : spawnSync(command[0], command.slice(1), { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`the consul stack's apply failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
