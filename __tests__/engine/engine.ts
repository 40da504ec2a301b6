/**
 * The private engine of `npm run test:engine` (run.sh starts it; DOCKER_HOST points at it), and the lab's containers
 * created on it with the settings the app synthesized: only the image and the command are the test's own.
 */
import { spawnSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { articleInput } from "../tools/helpers";
import { PROJECT_ROOT, runApp } from "../tools/synth";
import { freeLoopbackPort } from "../tools/ports";

/** The one image the tests run: a static BusyBox from this machine's Debian package (run.sh imports it). */
export const TEST_IMAGE = "consul-lab-test/busybox:engine";
/** What every container but a namespace runs instead of its real program: nothing, until stopped. */
const IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A docker command against the private engine, or the engine `env` points at (another host's). */
export function docker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Ran {
  const result = spawnSync("docker", [...args], { encoding: "utf8", env, timeout: 120_000 });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** As docker(), but throws with Docker's own words when the command fails. */
export function dockerOk(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = docker(args, env);
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

export function inspect<T = any>(name: string): T {
  return JSON.parse(dockerOk(["inspect", name]))[0] as T;
}

/** Stops and starts the private dockerd, as a host reboot would. */
export function restartEngine(): void {
  const result = spawnSync("bash", [join(__dirname, "dockerd.sh"), "restart", process.env.CONSUL_LAB_ENGINE_DIR!], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`the engine did not come back: ${result.stderr}`);
}

/**
 * A test program of `__tests__/engine/<name>/` built from its Go source with the standard library only (Debian's
 * golang-go), statically, into the run's engine directory; built once per run.
 */
export function goBinary(name: string): string {
  const output = join(process.env.CONSUL_LAB_ENGINE_DIR ?? tmpdir(), "bin", name);
  if (existsSync(output)) return output;
  const result = spawnSync("go", ["build", "-o", output, "."], {
    cwd: join(__dirname, name),
    encoding: "utf8",
    env: { ...process.env, CGO_ENABLED: "0", GO111MODULE: "off", GOFLAGS: "" },
  });
  if (result.status !== 0) throw new Error(`go build of ${name} failed: ${result.stderr}`);
  return output;
}

let labs = 0;

/**
 * The article's lab under a name and subnet of this run's own (10.<200-249>.<x>.0/24), with free loopback ports to
 * publish on, as a topology file for the CLI and the app.
 */
export async function uniqueLab(): Promise<{
  name: string;
  topologyFile: string;
  input: ReturnType<typeof articleInput>;
}> {
  labs++;
  const name = `cle${process.pid % 10000}x${labs}`;
  const second = 200 + ((process.pid + labs) % 50);
  const third = (process.pid * 7 + labs * 13) % 250;
  const input = articleInput();
  input.name = name;
  input.network = { subnet: `10.${second}.${third}.0/24` };
  for (const node of input.nodes) node.address = node.address.replace(/^10\.0\.1\./, `10.${second}.${third}.`);
  for (const service of input.services as { address?: string }[])
    if (service.address) service.address = service.address.replace(/^10\.0\.1\./, `10.${second}.${third}.`);
  input.publish = {
    httpPort: await freeLoopbackPort(),
    dnsPort: await freeLoopbackPort(),
    entryPort: await freeLoopbackPort(),
  };
  const topologyFile = join(mkdtempSync(join(tmpdir(), "consul-lab-engine-topology-")), `${name}.json`);
  writeFileSync(topologyFile, JSON.stringify(input));
  return { name, topologyFile, input };
}

type Resource = Record<string, any>;

/** The cluster stack the app synthesized for a topology file. */
export function synthesizedCluster(topologyFile: string): {
  container: Record<string, Resource>;
  network: Resource;
  outdir: string;
} {
  const run = runApp({ CONSUL_LAB_TOPOLOGY: topologyFile });
  if (run.status !== 0) throw new Error(`synth failed: ${run.stderr}`);
  const json = JSON.parse(readFileSync(join(run.outdir, "stacks", "cluster", "cdk.tf.json"), "utf8"));
  const networks = Object.values(json.resource.docker_network) as Resource[];
  return { container: json.resource.docker_container, network: networks[0], outdir: run.outdir };
}

/**
 * Every argument of a synthesized container, and what the test does with it: passed to `docker create` as written,
 * swapped for the test's own, or left out with the reason. An argument not listed here fails the test, so a new one
 * is a decision, not an accident.
 */
const ARGUMENTS: Record<string, "passed" | "swapped" | string> = {
  name: "passed",
  hostname: "passed",
  labels: "passed",
  restart: "passed",
  dns: "passed",
  dns_opts: "passed",
  dns_search: "passed",
  network_mode: "passed",
  networks_advanced: "passed",
  ports: "passed",
  env: "passed",
  capabilities: "passed",
  security_opts: "passed",
  read_only: "passed",
  memory: "passed",
  memory_swap: "passed",
  image: "swapped",
  entrypoint: "swapped",
  command: "swapped",
  "//": "cdktf's metadata",
  upload: "files for the real programs, which the test image does not run",
  volumes: "the agent's data volume, which nothing in the test image writes",
  healthcheck: "asks Consul, which the test image does not run",
  must_run: "a Terraform-side setting: the provider's reaction to a stopped container",
  wait: "a Terraform-side setting: the provider waits for the healthcheck",
  wait_timeout: "a Terraform-side setting",
  depends_on: "Terraform's ordering; the test creates namespaces first",
  provider: "Terraform's choice of engine on a lab over several hosts; the test sends each to its host (its env)",
  lifecycle: "Terraform's read-back rules (engine-read-back.ts), checked by daemon-defaults.test.ts",
};

/** The `docker create` flags of a synthesized container's hardening (constructs/container-hardening.ts). */
export function hardeningArgs(resource: Resource): string[] {
  const args: string[] = [];
  for (const capability of resource.capabilities?.drop ?? []) args.push("--cap-drop", capability);
  for (const capability of resource.capabilities?.add ?? []) args.push("--cap-add", capability);
  for (const option of resource.security_opts ?? []) args.push("--security-opt", option);
  if (resource.read_only) args.push("--read-only");
  if (resource.memory !== undefined) args.push("--memory", `${resource.memory}m`);
  if (resource.memory_swap !== undefined) args.push("--memory-swap", `${resource.memory_swap}m`);
  return args;
}

/**
 * The `docker create` flags of a synthesized container's own settings: its name, hostname, labels, restart policy,
 * resolver, environment (each entry as `value` gives it), hardening and published ports; not its network, image or
 * command, which each caller makes its own way.
 */
export function settingArgs(resource: Resource, value: (text: string) => string = (text) => text): string[] {
  const args = ["--name", resource.name];
  if (resource.hostname) args.push("--hostname", resource.hostname);
  for (const { label, value: labelValue } of resource.labels ?? []) args.push("--label", `${label}=${labelValue}`);
  if (resource.restart) args.push("--restart", resource.restart);
  for (const server of resource.dns ?? []) args.push("--dns", server);
  for (const option of resource.dns_opts ?? []) args.push("--dns-option", option);
  for (const domain of resource.dns_search ?? []) args.push("--dns-search", domain);
  for (const variable of resource.env ?? []) args.push("--env", value(variable));
  args.push(...hardeningArgs(resource));
  for (const port of resource.ports ?? [])
    args.push("--publish", `${port.ip}:${port.external}:${port.internal}/${port.protocol}`);
  return args;
}

/** `docker create` arguments for one synthesized container; references to other resources resolved by `names`. */
function createArgs(resource: Resource, network: Resource, names: Record<string, string>): string[] {
  const unknown = Object.keys(resource).filter((key) => !(key in ARGUMENTS));
  if (unknown.length > 0) throw new Error(`the engine tests do not know the container arguments ${unknown.join(", ")}`);
  const args = ["create", ...settingArgs(resource)];
  const joined = /^container:\$\{docker_container\.([^.]+)\.id\}$/.exec(resource.network_mode ?? "");
  if (joined) {
    args.push("--network", `container:${names[joined[1]]}`);
  } else {
    for (const attachment of resource.networks_advanced ?? []) {
      if (!/^\$\{docker_network\.[^.]+\.name\}$/.test(attachment.name))
        throw new Error(`unexpected network ${attachment.name}`);
      args.push("--network", network.name, "--ip", attachment.ipv4_address);
    }
  }
  const isNamespace = !joined;
  // A namespace container's own command is a shell loop, which BusyBox runs as the real image would.
  args.push("--entrypoint", (isNamespace ? resource.entrypoint : IDLE)[0], TEST_IMAGE);
  args.push(...(isNamespace ? resource.entrypoint : IDLE).slice(1));
  return args;
}

/** The lab's network as synthesized (a bridge, or an attachable overlay over several hosts), on the engine of `env`. */
export function createNetwork(
  { network }: Pick<ReturnType<typeof synthesizedCluster>, "network">,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const subnet = network.ipam_config[0];
  const networkArgs = ["network", "create", "--driver", network.driver ?? "bridge", "--subnet", subnet.subnet];
  if (subnet.gateway) networkArgs.push("--gateway", subnet.gateway);
  if (subnet.ip_range) networkArgs.push("--ip-range", subnet.ip_range);
  if (network.attachable) networkArgs.push("--attachable");
  for (const [key, value] of Object.entries<string>(network.options ?? {}))
    networkArgs.push("--opt", `${key}=${value}`);
  for (const { label, value } of network.labels ?? []) networkArgs.push("--label", `${label}=${value}`);
  dockerOk([...networkArgs, network.name], env);
}

/**
 * The containers of the nodes asked for (all by default), created and started on the engine as synthesized; with
 * `on`, on another engine (a host of a lab over several), whose network exists already. `start` may be given to start
 * a container its own way (retrying, say).
 */
export function deployContainers(
  cluster: ReturnType<typeof synthesizedCluster>,
  nodes?: readonly string[],
  on?: { env: NodeJS.ProcessEnv; start?: (name: string) => void },
): { names: Record<string, string> } {
  const network = cluster.network;
  const env = on?.env ?? process.env;
  if (!on) createNetwork(cluster);
  const names: Record<string, string> = {};
  const wanted = (resource: Resource) =>
    !nodes || nodes.includes(resource.labels.find((l: Resource) => l.label === "consul-lab.node")?.value);
  const entries = Object.entries(cluster.container).filter(([, resource]) => wanted(resource));
  // Namespaces first, as Terraform orders them by their references.
  const ordered = [
    ...entries.filter(([, resource]) => !String(resource.network_mode).startsWith("container:")),
    ...entries.filter(([, resource]) => String(resource.network_mode).startsWith("container:")),
  ];
  for (const [key, resource] of ordered) {
    dockerOk(createArgs(resource, network, names), env);
    if (on?.start) on.start(resource.name);
    else dockerOk(["start", resource.name], env);
    names[key] = resource.name;
  }
  return { names };
}

/** Removes every container and the network of a lab. */
/**
 * Removes every container and the network of a lab: those with its label, and those a test ran itself under the lab's
 * name (`<lab>-...`, without labels). Each run's lab name is its own, so no other lab's container matches.
 */
export function removeLab(name: string): void {
  const ids = new Set(
    [`label=consul-lab.lab=${name}`, `name=^${name}-`].flatMap((filter) =>
      docker(["ps", "--all", "--quiet", "--filter", filter]).stdout.split("\n").filter(Boolean),
    ),
  );
  if (ids.size > 0) docker(["rm", "--force", "--volumes", ...ids]);
  docker(["network", "rm", name]);
}

/** A single-node swarm on the private engine, listening on a free loopback port; `docker swarm leave --force` ends it. */
export async function initSwarm(): Promise<void> {
  const listen = `127.0.0.1:${await freeLoopbackPort()}`;
  dockerOk(["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", listen]);
}

/**
 * A unique lab in the multi-host example's shape (hosts, placement, an attachable overlay) under the lab's own name,
 * nodes, subnet and ports, written to its topology file; the input.
 */
export function asLabOverHosts(lab: Awaited<ReturnType<typeof uniqueLab>>): any {
  const example = parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "three-hosts.yaml"), "utf8"));
  const input = {
    ...example,
    name: lab.name,
    nodes: lab.input.nodes,
    network: lab.input.network,
    publish: lab.input.publish,
  };
  writeFileSync(lab.topologyFile, JSON.stringify(input));
  return input;
}

/**
 * Runs a synthesized namespace container as synthesized: on the lab's network at its address, its ports published; on
 * the engine of `on.env`, started by `on.start` when given (a start that retries a swarm attach).
 */
export function runNamespace(
  cluster: ReturnType<typeof synthesizedCluster>,
  namespace: Resource,
  on: { env: NodeJS.ProcessEnv; start?: (name: string) => void } = { env: process.env },
): void {
  const args = ["create", "--name", namespace.name, "--network", cluster.network.name];
  args.push("--ip", namespace.networks_advanced[0].ipv4_address);
  for (const port of namespace.ports ?? [])
    args.push("--publish", `${port.ip}:${port.external}:${port.internal}/${port.protocol}`);
  dockerOk([...args, "--entrypoint", namespace.entrypoint[0], TEST_IMAGE, ...namespace.entrypoint.slice(1)], on.env);
  if (on.start) on.start(namespace.name);
  else dockerOk(["start", namespace.name], on.env);
}

/**
 * A request to the engine's API itself, as the Docker provider makes it (its Go client), not through the Docker CLI,
 * which rewrites some of what it is given (capability names, for one).
 */
export function engineApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const socketPath = (process.env.DOCKER_HOST ?? "").replace(/^unix:\/\//, "");
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { socketPath, path: `/v1.41${path}`, method, headers: { "Content-Type": "application/json" } },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The IPv4 addresses a container sees on its interfaces (BusyBox's `ip`). */
export function addressesIn(container: string): string[] {
  const out = docker(["exec", container, "ip", "-o", "-4", "addr"]).stdout;
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((match) => match[1]);
}

/** The network namespace a container's first process is in, as the kernel names it (`net:[inode]`). */
export function networkNamespaceOf(container: string): string {
  return docker(["exec", container, "readlink", "/proc/1/ns/net"]).stdout.trim();
}

/** Runs one of the project's npm scripts' command lines against the engine. */
export function labCli(args: readonly string[], topologyFile: string): Ran {
  const result = spawnSync(process.execPath, ["scripts/run-ts.mjs", "cli/lab.ts", ...args], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, CONSUL_LAB_TOPOLOGY: topologyFile },
    timeout: 300_000,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}
