/**
 * `npm run doctor`, and the first step of `npm run deploy`: is this host ready for the lab? Each check prints one
 * line, ok or a problem with its fix, and a deploy stops before it changes anything when one fails.
 */
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { labAssetImages } from "../shared/asset-images";
import {
  DEFAULT_TLS_DIR,
  labCaFile,
  readSecrets,
  RENEW_BEFORE_DAYS,
  SecretsError,
  secretsFile,
  TLS_DIR,
} from "../secrets";
import { type HostSpec, type Lab, labPublishedPorts } from "../topology";
import { type DockerEndpoint, describeEndpoint, isRemoteEngine } from "../runtime/docker-endpoint";
import { type LabEngine, labEngines, publishEngine, runsNodes } from "../runtime/lab-engines";
import { type PublishReach, reachOf, reachPublishedPorts, unreachableReason } from "../runtime/published-ports";
import { publishedTcpPorts } from "../runtime/ssh-forwards";
import { type CheckResult, ok, problem } from "./check-result";
import { checkSwarm } from "./doctor-swarm";
import { checkProviderContexts, checkTerraformEnvironment } from "./doctor-environment";

export type { CheckResult } from "./check-result";
import { hostRoutes, parseCidr, subnetsOverlap } from "../topology/ipv4";
import type { DockerCli } from "../runtime/docker-cli";
import { tryBind } from "./port-probe";
import { capture } from "../runtime/process";
import { LAB_LABEL } from "../shared/labels";
import { terraformBinary } from "./terraform";
import { LAB_BRIDGE_OPTIONS } from "../shared/lab-contract";

export interface DoctorContext {
  readonly lab: Lab;
  readonly env: NodeJS.ProcessEnv;
  readonly docker: DockerCli;
  /** The kernel's IPv4 route table (`/proc/net/route` on Linux); absent elsewhere, where the check is skipped. */
  readonly routeTable: string;
  /** The lab's TLS folder. @default the project's .secrets/tls */
  readonly tlsDir?: string;
  /** The engine of the publish node's host, once known. */
  readonly publishEngine?: LabEngine;
}

/** The oldest Terraform with `terraform_data` (the leader gate, the ACL bootstrap), and the Node this project needs. */
export const MIN_TERRAFORM = "1.4.0";
export const MIN_NODE_MAJOR = 20;
/** The oldest engine that opens ports below 1024 to a container's unprivileged processes (container-hardening.ts). */
export const MIN_ENGINE = "20.10.0";

function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (text: string) =>
    text
      .split(/[.-]/)
      .slice(0, 3)
      .map((part) => Number.parseInt(part, 10) || 0);
  const [a, b] = [parts(version), parts(minimum)];
  for (let index = 0; index < 3; index++) if (a[index] !== b[index]) return a[index] > b[index];
  return true;
}

function checkNode(): CheckResult {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= MIN_NODE_MAJOR
    ? ok("node", `v${process.versions.node}`)
    : problem("node", `v${process.versions.node} is too old`, `install Node ${MIN_NODE_MAJOR} or newer`);
}

function checkTerraform(context: DoctorContext): CheckResult {
  const binary = terraformBinary(context.env);
  const result = capture(binary, ["version", "-json"], { env: context.env });
  if (result.startError || result.status !== 0) {
    return problem(
      "terraform",
      `\`${binary}\` is not on the PATH or does not run (${(result.startError ?? result.stderr).trim().split("\n")[0]})`,
      `install Terraform ${MIN_TERRAFORM} or newer (https://developer.hashicorp.com/terraform/install), or OpenTofu with TERRAFORM_BINARY_NAME=tofu`,
    );
  }
  const version = String(JSON.parse(result.stdout).terraform_version ?? "");
  return versionAtLeast(version, MIN_TERRAFORM)
    ? ok("terraform", `${binary} ${version}`)
    : problem(
        "terraform",
        `${binary} ${version} is older than ${MIN_TERRAFORM}`,
        `upgrade to Terraform ${MIN_TERRAFORM} or newer`,
      );
}

/** The fix for a Docker context that does not exist, wherever the doctor meets one. */
const FIX_MISSING_CONTEXT =
  "name a context that `docker context ls` lists (DOCKER_CONTEXT, or the host's context in the topology)";

/**
 * Where the lab's ports are published, as this machine reaches them: on this machine, or on a remote host reached
 * over ssh://, whose ports each command forwards here (runtime/published-ports.ts). Another remote engine publishes
 * where nothing here reaches.
 */
function checkDockerHost(context: DoctorContext, reach: PublishReach): CheckResult {
  const endpoint = describeEndpoint(reach.endpoint);
  if (reach.endpoint.kind === "missing-context") return problem("docker host", endpoint, FIX_MISSING_CONTEXT);
  if (reach.kind === "unreachable")
    return problem("docker host", unreachableReason(context.lab, reach), "use an ssh:// endpoint for that engine");
  if (reach.kind === "network")
    return ok(
      "docker host",
      `${endpoint}${reach.host ? ` (${reach.host}, the publish node's)` : ""}, remote: the lab publishes on ${context.lab.publishedHost} there, dialled directly`,
    );
  if (reach.kind === "ssh") {
    const ports = publishedTcpPorts(context.lab).map((port) => port.port);
    return ok(
      "docker host",
      `${endpoint}${reach.host ? ` (${reach.host}, the publish node's)` : ""}, remote: each command forwards 127.0.0.1:${ports.join(", ")} from there over ssh; DNS over UDP is not forwarded`,
    );
  }
  return ok("docker host", endpoint);
}

/** The command that shows whether a remote engine runs Docker, as a user would type it. */
function engineCheckCommand(endpoint: DockerEndpoint): string {
  const target = endpoint.kind === "network" ? endpoint.ssh : undefined;
  return target
    ? `ssh ${target.port ? `-p ${target.port} ` : ""}${target.destination} docker version`
    : `docker -H ${describeEndpoint(endpoint)} version`;
}

/**
 * Engines before 29 restore containers after a daemon restart without ordering `container:` dependencies
 * (moby#50326), so a reboot can leave a node's containers exited; seen on 20.10 by `npm run test:engine`.
 */
const ENGINE_ORDERS_JOINED_CONTAINERS = 29;

interface DockerVersion {
  Server?: { Version?: string; ApiVersion?: string; Os?: string; Arch?: string };
}

function checkDockerEngine(context: DoctorContext, endpoint: DockerEndpoint): CheckResult {
  const remote = isRemoteEngine(endpoint);
  const missingContext = endpoint.kind === "missing-context";
  const result = context.docker.run(["version", "--format", "{{json .}}"]);
  if (result.startError) {
    return problem(
      "docker engine",
      "the `docker` CLI is not on the PATH",
      "install Docker (https://docs.docker.com/engine/install/)",
    );
  }
  const version = result.stdout.trim() ? (JSON.parse(result.stdout) as DockerVersion) : {};
  if (result.status !== 0 || !version.Server?.Version) {
    const cause = result.stderr.trim().split("\n").filter(Boolean).pop() ?? "no answer";
    return problem(
      "docker engine",
      `cannot reach the engine at ${describeEndpoint(endpoint)}: ${cause}`,
      missingContext
        ? FIX_MISSING_CONTEXT
        : remote
          ? `check that the host is up and that \`${engineCheckCommand(endpoint)}\` works from here`
          : "start Docker (`sudo systemctl start docker`), or let your user use it (`sudo usermod -aG docker $USER`, then log in again)",
    );
  }
  const major = Number(/^(\d+)\./.exec(version.Server.Version)?.[1] ?? 0);
  if (!versionAtLeast(version.Server.Version, MIN_ENGINE)) {
    return problem(
      "docker engine",
      `${version.Server.Version} is older than ${MIN_ENGINE}, which lets a container's processes bind ports below 1024 (net.ipv4.ip_unprivileged_port_start=0); the lab's nginx and dnsmasq run without CAP_NET_BIND_SERVICE`,
      `upgrade Docker to ${MIN_ENGINE} or newer`,
    );
  }
  const reboots =
    major < ENGINE_ORDERS_JOINED_CONTAINERS
      ? `; engines before ${ENGINE_ORDERS_JOINED_CONTAINERS} can leave containers exited after a reboot: run \`npm run repair\` then`
      : "";
  return ok(
    "docker engine",
    `${version.Server.Version} (API ${version.Server.ApiVersion}, ${version.Server.Os}/${version.Server.Arch})${reboots}`,
  );
}

interface DockerInfo {
  DriverStatus?: [string, string][];
  Driver?: string;
}

/**
 * Informational since the deploy builds with the user's own builder (scripts/deploy-time/build-image.mjs): the
 * provider's own builds needed the classic store.
 */
function checkImageStore(context: DoctorContext): CheckResult {
  const info = context.docker.json<DockerInfo>(["info", "--format", "{{json .}}"]) ?? {};
  const containerd = (info.DriverStatus ?? []).some(
    ([key, value]) => key === "driver-type" && value.includes("containerd"),
  );
  const buildx = context.docker.run(["buildx", "version"]).status === 0;
  return ok(
    "image store",
    `${containerd ? "containerd" : `classic (${info.Driver ?? "unknown driver"})`}; images are built with ${buildx ? "`docker buildx build --load` (BuildKit)" : "`docker build` (legacy builder: buildx is not installed)"}`,
  );
}

interface ContainerInspect {
  Name?: string;
  HostConfig?: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> };
}

/** The host ports running containers publish, as `address:port/protocol`: the lab's own, or everyone else's. */
function publishedBindings(context: DoctorContext, whose: "lab" | "others"): Set<string> {
  const running = (filter: string[]) =>
    context.docker
      .run(["ps", "--quiet", "--no-trunc", ...filter])
      .stdout.split("\n")
      .filter(Boolean);
  const ofLab = new Set(running(["--filter", `label=${LAB_LABEL}=${context.lab.topology.name}`]));
  const ids = whose === "lab" ? [...ofLab] : running([]).filter((id) => !ofLab.has(id));
  if (ids.length === 0) return new Set();
  const containers = context.docker.json<ContainerInspect[]>(["inspect", ...ids]) ?? [];
  return new Set(
    containers.flatMap((container) =>
      Object.entries(container.HostConfig?.PortBindings ?? {}).flatMap(([internal, bindings]) =>
        (bindings ?? []).map(
          (binding) => `${binding.HostIp || "0.0.0.0"}:${binding.HostPort}/${internal.split("/")[1] ?? "tcp"}`,
        ),
      ),
    ),
  );
}

/** The ports the lab publishes, each with its protocol and field. */
function wantedPorts(lab: Lab): [number, "tcp" | "udp", string][] {
  return labPublishedPorts(lab).map((published) => [published.hostPort, published.protocol, published.field]);
}

/**
 * The ports on a remote publish host, where nothing here can bind to try them: none held there by another container
 * (a program outside Docker holding one shows when the deploy publishes it), and the forwards' ports free here.
 */
async function checkRemotePorts(context: DoctorContext, where: string, forwarded: boolean): Promise<CheckResult> {
  const { publish } = context.lab.topology;
  const others = publishedBindings(context, "others");
  const takenThere = wantedPorts(context.lab)
    .filter(
      ([port, protocol]) =>
        others.has(`${publish.address}:${port}/${protocol}`) || others.has(`0.0.0.0:${port}/${protocol}`),
    )
    .map(([port, protocol, field]) => `${port}/${protocol} (${field})`);
  const takenHere: string[] = [];
  for (const { port, field } of forwarded ? publishedTcpPorts(context.lab) : []) {
    const address = context.lab.publishedHost;
    const error = await tryBind(address, port, "tcp");
    if (error) takenHere.push(`${address}:${port} (${field}: ${error === "EADDRINUSE" ? "in use" : error})`);
  }
  if (takenThere.length > 0)
    return problem(
      "ports",
      `taken on ${where} by another container: ${takenThere.join(", ")}`,
      "stop that container, or choose other ports in the topology's publish section",
    );
  if (takenHere.length > 0)
    return problem(
      "ports",
      `the ssh forwards need these ports here, and they are taken: ${takenHere.join(", ")}`,
      "stop what holds them (`ss -lntp`), or choose other ports in the topology's publish section",
    );
  return ok(
    "ports",
    `no other container publishes ${wantedPorts(context.lab)
      .map(([port, protocol]) => `${port}/${protocol}`)
      .join(", ")} on ${where}; the forwards' ports are free here`,
  );
}

async function checkPorts(context: DoctorContext): Promise<CheckResult> {
  const { publish } = context.lab.topology;
  const wanted = wantedPorts(context.lab);
  // A redeploy finds the ports taken by the lab's own containers, which is fine.
  const held = publishedBindings(context, "lab");
  const heldByLab = (port: number, protocol: string) =>
    held.has(`${publish.address}:${port}/${protocol}`) || held.has(`0.0.0.0:${port}/${protocol}`);
  const taken: string[] = [];
  for (const [port, protocol, field] of wanted) {
    const error = await tryBind(publish.address, port, protocol);
    if (!error || heldByLab(port, protocol)) continue;
    if (error === "EADDRNOTAVAIL") {
      return problem(
        "ports",
        `publish.address ${publish.address} is not an address of this machine`,
        "set publish.address to 127.0.0.1 or an address of this host",
      );
    }
    taken.push(`${publish.address}:${port}/${protocol} (${field}: ${error === "EADDRINUSE" ? "in use" : error})`);
  }
  if (taken.length > 0) {
    return problem(
      "ports",
      `taken: ${taken.join(", ")}`,
      "stop what holds them (`sudo ss -lntup`), or choose other ports in the topology's publish section",
    );
  }
  return ok(
    "ports",
    `${wanted.map(([port, protocol]) => `${port}/${protocol}`).join(", ")} free on ${publish.address}`,
  );
}

interface NetworkInspect {
  Name: string;
  Id: string;
  Driver?: string;
  EnableIPv6?: boolean;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string }[] };
}

/** What the engine shows of the lab's network beyond what the cluster stack declares (constructs/lab-network.ts). */
function networkDrift(own: NetworkInspect): string | undefined {
  if (own.EnableIPv6) return "IPv6 enabled";
  if (own.Driver !== "bridge") return undefined;
  const extra = Object.entries(own.Options ?? {}).filter(([key, value]) => LAB_BRIDGE_OPTIONS[key] !== value);
  return extra.length > 0 ? `the options ${extra.map(([key, value]) => `${key}=${value}`).join(", ")}` : undefined;
}

function checkSubnet(context: DoctorContext): CheckResult {
  const { name, network } = context.lab.topology;
  const lab = parseCidr(network.subnet);
  const ids = context.docker.run(["network", "ls", "--quiet", "--no-trunc"]).stdout.split("\n").filter(Boolean);
  const networks = ids.length > 0 ? context.docker.json<NetworkInspect[]>(["network", "inspect", ...ids]) : [];
  if (!networks) {
    return problem(
      "subnet",
      "cannot read Docker's networks (`docker network inspect` failed)",
      "run `npm run doctor` again; if it persists, check `docker network ls`",
    );
  }
  // The lab's own network by its name and its label, so a built-in network (bridge, host, none) or someone else's
  // network of the same name is never taken for it.
  const own = networks.find((candidate) => candidate.Name === name && candidate.Labels?.[LAB_LABEL] === name);
  const clashes = networks
    .filter((candidate) => candidate !== own)
    .flatMap((candidate) =>
      (candidate.IPAM?.Config ?? [])
        .map((config) => config.Subnet ?? "")
        .filter((subnet) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet) && subnetsOverlap(parseCidr(subnet), lab))
        .map((subnet) => `Docker network ${candidate.Name} (${subnet})`),
    );
  // The lab's own bridge is `br-<first 12 of its ID>`; its route is the lab's.
  const ownBridge = own ? `br-${own.Id.slice(0, 12)}` : undefined;
  for (const route of hostRoutes(context.routeTable))
    if (route.iface !== ownBridge && subnetsOverlap(route.subnet, lab))
      clashes.push(`host route ${route.cidr} on ${route.iface}`);
  if (clashes.length > 0) {
    return problem(
      "subnet",
      `${network.subnet} overlaps ${clashes.join(", ")}; Docker refuses a network that overlaps another ("Pool overlaps with other one on this address space"), and one that overlaps a host route makes those addresses unreachable`,
      "choose another network.subnet (and node addresses) in your topology, or remove the other network",
    );
  }
  const drift = own && networkDrift(own);
  if (drift) {
    return problem(
      "subnet",
      `the lab's network ${name} reads back ${drift}, which its configuration does not say: the daemon added it (daemon.json default-network-opts), and every plan would replace the network and so the whole lab`,
      "remove that default from the daemon's configuration (or add it to the lab's network options), then npm run destroy and npm run deploy",
    );
  }
  return ok("subnet", `${network.subnet} is free${own ? ` (network ${name} is the lab's own)` : ""}`);
}

function checkSecrets(context: DoctorContext): CheckResult {
  if (!context.lab.secure) return ok("secrets", 'none needed (security "none")');
  const file = secretsFile(context.env);
  if (!existsSync(file)) return ok("secrets", `${file} does not exist yet; the first deploy creates it`);
  try {
    readSecrets(file);
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    return problem(
      "secrets",
      error.message,
      "fix or restore the file; never replace it while the lab runs (a new gossip key splits the cluster)",
    );
  }
  return ok("secrets", `${file} is valid and owner-only`);
}

/** A "secure" lab's TLS: openssl to make the certificates with, and the lab's CA, once there, usable for a while yet. */
function checkTls(context: DoctorContext): CheckResult {
  if (!context.lab.secure) return ok("tls", 'none (security "none")');
  const openssl = spawnSync("openssl", ["version"], { encoding: "utf8", env: context.env });
  if (openssl.error || openssl.status !== 0) {
    return problem(
      "tls",
      "openssl does not run here; the deploy makes the lab's CA and its servers' certificates with it",
      "install openssl (apt-get install openssl)",
    );
  }
  const tlsDir = context.tlsDir ?? TLS_DIR;
  const caFile = labCaFile(tlsDir);
  if (!existsSync(caFile))
    return ok("tls", `${openssl.stdout.trim()}; the first deploy makes the lab's CA in ${tlsDir}`);
  let validTo: Date;
  try {
    validTo = new Date(new X509Certificate(readFileSync(caFile)).validTo);
  } catch (error) {
    return problem("tls", `${caFile} is not a certificate (${(error as Error).message})`, RESTORE_CA);
  }
  const daysLeft = Math.floor((validTo.getTime() - Date.now()) / (24 * 3600 * 1000));
  if (daysLeft < RENEW_BEFORE_DAYS) {
    return problem("tls", `the lab's CA ${caFile} expires in ${daysLeft} day(s)`, RESTORE_CA);
  }
  return ok("tls", `the lab's CA ${caFile} is valid for ${daysLeft} more days`);
}

const RESTORE_CA = `restore ${DEFAULT_TLS_DIR} from your backup, or move it away so the next deploy makes a new CA (every agent is redeployed)`;

/** Seconds one registry lookup may take before the doctor calls the image unresolved. */
const REGISTRY_LOOKUP_SECONDS = 30;

/**
 * Why a pinned image that is not local would not pull, or undefined when its registry has it: asked of the registry
 * with the user's own credentials and proxy (`docker buildx imagetools inspect`, or `docker manifest inspect`
 * without buildx), before anything is changed.
 */
function unresolvable(context: DoctorContext, reference: string): string | undefined {
  const buildx = context.docker.run(["buildx", "version"]).status === 0;
  const args = buildx ? ["buildx", "imagetools", "inspect", reference] : ["manifest", "inspect", reference];
  const result = context.docker.run(args, REGISTRY_LOOKUP_SECONDS * 1000);
  if (result.status === 0) return undefined;
  return (result.startError ?? result.stderr).trim().split("\n").filter(Boolean).pop() ?? `exit ${result.status}`;
}

/** Every pinned image is local, or its registry has it: a wrong tag or digest stops the deploy before any change. */
function checkImages(context: DoctorContext, host?: HostSpec): CheckResult {
  const { images } = context.lab.topology;
  const pinned = [images.consul, images.nginx, images.consulTemplate, images.dnsmasqBase];
  const missing = pinned.filter((reference) => !context.docker.hasImage(reference));
  const unresolved = missing.flatMap((reference) => {
    const why = unresolvable(context, reference);
    return why === undefined ? [] : [`${reference} (${why})`];
  });
  const built = labAssetImages(context.lab, host).length;
  if (unresolved.length > 0) {
    return problem(
      "images",
      `not local, and their registry does not resolve them: ${unresolved.join("; ")}`,
      "correct the tag or digest under `images` in the topology, log in to the registry (`docker login`), or load the image (`docker load`)",
    );
  }
  return ok(
    "images",
    missing.length === 0
      ? `all ${pinned.length} pinned images are local; ${built} more are built from assets/`
      : `${missing.join(", ")} will be pulled from their registry (each resolves there); ${built} images are built from assets/`,
  );
}

/** Opens the ssh forwards a command would, and closes them: ssh, its keys and the server's forwarding work. */
async function checkForwards(context: DoctorContext): Promise<CheckResult> {
  try {
    const ports = await reachPublishedPorts(context.lab, context.env, context.publishEngine);
    await ports.close();
    const numbers = publishedTcpPorts(context.lab).map((port) => port.port);
    return ok(
      "ssh forwards",
      `opened and closed ${context.lab.publishedHost}:${numbers.join(", ")} from ${ports.forwardedFrom}`,
    );
  } catch (error) {
    return problem(
      "ssh forwards",
      (error as Error).message,
      "make `ssh` to that host work without a prompt (a key or an agent), with AllowTcpForwarding on its server",
    );
  }
}

/**
 * Every check, in the order they print. The engine's checks stop at the first that cannot reach it. On a lab over
 * several hosts each host's engine is checked (its lines name it), then the swarm they form.
 */
export async function runDoctor(context: DoctorContext): Promise<CheckResult[]> {
  const { lab } = context;
  const results: CheckResult[] = [checkNode(), checkTerraform(context), checkTerraformEnvironment(context.env)];
  const contexts = checkProviderContexts(lab, context.env);
  if (contexts) results.push(contexts);
  const engines: LabEngine[] = lab.multiHost ? labEngines(lab, context.env) : [{ docker: context.docker }];
  const publishHost = lab.hostOf(lab.publishNode.name)?.name;
  const publish = publishEngine(lab, engines);
  const reach = reachOf(publish, lab);
  const hostCheck = checkDockerHost(context, reach);
  results.push(hostCheck);
  const onEngine = (engine: LabEngine) => ({ ...context, docker: engine.docker });
  const named = (engine: LabEngine, result: CheckResult) =>
    engine.host ? { ...result, check: `${result.check} on ${engine.host.name}` } : result;
  const reachable: LabEngine[] = [];
  for (const engine of engines) {
    const engineCheck = named(engine, checkDockerEngine(onEngine(engine), engine.docker.endpoint()));
    results.push(engineCheck);
    if (engineCheck.ok) reachable.push(engine);
  }
  if (lab.multiHost) results.push(checkSwarm(lab, reachable));
  if (hostCheck.ok && reachable.length === engines.length) {
    // Images only where nodes run: a manager that runs none pulls and builds nothing.
    const withNodes = engines.filter((engine) => runsNodes(lab, engine));
    for (const engine of withNodes) results.push(named(engine, checkImageStore(onEngine(engine))));
    const where = publishHost ?? describeEndpoint(reach.endpoint);
    results.push(
      reach.kind === "local"
        ? await checkPorts(onEngine(publish))
        : await checkRemotePorts(onEngine(publish), where, reach.kind === "ssh"),
    );
    for (const engine of engines) {
      const on = onEngine(engine);
      // The route table is this machine's: it says nothing about a remote host's routes.
      const local = !isRemoteEngine(engine.docker.endpoint());
      results.push(named(engine, checkSubnet(local ? on : { ...on, routeTable: "" })));
      if (runsNodes(lab, engine)) results.push(named(engine, checkImages(on, engine.host)));
    }
    if (reach.kind === "ssh") results.push(await checkForwards({ ...context, publishEngine: publish }));
  }
  results.push(checkSecrets(context), checkTls(context));
  return results;
}

/** One line per check: `ok` or `PROBLEM`, the check, what was seen, and the fix. */
export function formatCheck(result: CheckResult): string {
  return result.ok
    ? `ok       ${result.check}: ${result.detail}`
    : // A detail that ends its own sentence ("Is the docker daemon running?") gets no second full stop.
      `PROBLEM  ${result.check}: ${result.detail}${/[.?!]$/.test(result.detail) ? "" : "."} Fix: ${result.fix}`;
}

/** The kernel's IPv4 route table as text (CONSUL_LAB_ROUTE_TABLE names another file, for tests); empty off Linux. */
export function routeTableOf(env: NodeJS.ProcessEnv): string {
  const file = env.CONSUL_LAB_ROUTE_TABLE || "/proc/net/route";
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}
