/**
 * The user's path on the twin lab over three hosts: three dockerd on this machine, each in a network namespace of its
 * own (hosts.sh), joined in one swarm and named as Docker contexts, as a user's topology names them. The cluster stack
 * is applied by the twin's apply (twin-apply.ts) with each node's containers on its host's engine, and the consul
 * stack as the Consul provider would. The publish node's namespace is on the overlay only, so its published ports
 * reach it through docker_gwbridge: the stack's leader gate, its ACL bootstrap, the consul stack's calls and then the
 * real CLI (`npm run verify`, `npm run verify -- --drill`) run on the publish host, in its network namespace, where
 * the lab publishes on 127.0.0.1 (the seam that was dead before Consul listened on 0.0.0.0 there). Then one host's
 * engine restarts, and `npm run repair` makes the lab whole again.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SWARM_ATTACH_FAILURE } from "../../cli/terraform";
import { LabCheckout } from "../tools/lab-checkout";
import { docker, dockerOk, TEST_IMAGE, uniqueLab } from "./engine";
import { failedRows, until } from "./twin";
import { applyConsulStack, applyContainers, prepareTwin, runProvisioner, TWIN_ROLES, type Twin } from "./twin-apply";

jest.setTimeout(900_000);

const HOSTS = ["h1", "h2", "h3"] as const;
// Under the run's engine folder, so run.sh removes them even when this file never gets to its afterAll.
const hostsDir = mkdtempSync(join(process.env.CONSUL_LAB_ENGINE_DIR ?? "/tmp", "hosts-"));
const hostsScript = join(__dirname, "hosts.sh");
// The test's own Docker CLI configuration, where its contexts live: the user's is never touched.
const dockerConfig = mkdtempSync(join(process.env.TMPDIR ?? "/tmp", "docker-config-"));
const envOf = (host: string | undefined): NodeJS.ProcessEnv => {
  if (!host) throw new Error("every node of a lab over several hosts has a host");
  return { ...process.env, DOCKER_HOST: `unix://${hostsDir}/${host}/docker.sock` };
};
let twin: Twin;
let checkout: LabCheckout;
let topologyFile: string;

/** Starts a container on the overlay, retrying a failed attach as the deploy does (SWARM_ATTACH_FAILURE). */
const startRetrying = (name: string, env: NodeJS.ProcessEnv) => {
  for (let attempt = 1; ; attempt++) {
    const started = docker(["start", name], env);
    if (started.status === 0) return;
    if (attempt === 3 || !SWARM_ATTACH_FAILURE.test(started.stderr)) throw new Error(started.stderr);
    spawnSync("sleep", ["5"]);
  }
};

const hostOf = (node: string) => twin.lab.hostOf(node)!.name;
/** A host's own network namespace, where its engine publishes the lab's ports on 127.0.0.1. */
const namespaceOfHost = (host: string) =>
  `/proc/${readFileSync(join(hostsDir, host, "dockerd.pid"), "utf8").trim()}/ns/net`;
const publishHost = () => namespaceOfHost(hostOf(twin.lab.publishNode.name));

beforeAll(async () => {
  const started = spawnSync("bash", [hostsScript, "start", hostsDir, String(HOSTS.length)], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`the hosts did not start: ${started.stderr}`);
  const network = readFileSync(join(hostsDir, "net"), "utf8").trim();
  const engineLab = await uniqueLab();
  topologyFile = engineLab.topologyFile;
  const input = {
    ...engineLab.input,
    hosts: HOSTS.map((host) => ({ name: host, context: `${engineLab.name}-${host}` })),
  };
  writeFileSync(topologyFile, JSON.stringify(input));
  const image = join(hostsDir, "image.tar");
  dockerOk(["save", "--output", image, TEST_IMAGE]);
  for (const host of HOSTS) {
    dockerOk(["load", "--input", image], envOf(host));
    dockerOk(
      ["context", "create", `${engineLab.name}-${host}`, "--docker", `host=unix://${hostsDir}/${host}/docker.sock`],
      { ...process.env, DOCKER_CONFIG: dockerConfig },
    );
  }
  dockerOk(["swarm", "init", "--advertise-addr", `192.168.${network}.1`], envOf("h1"));
  const token = dockerOk(["swarm", "join-token", "--quiet", "worker"], envOf("h1")).trim();
  for (const host of HOSTS.slice(1))
    dockerOk(["swarm", "join", "--token", token, `192.168.${network}.1:2377`], envOf(host));

  checkout = new LabCheckout();
  twin = prepareTwin(topologyFile, checkout.root);
  applyContainers(twin, { roles: TWIN_ROLES, engineOf: envOf, start: startRetrying });
  for (const script of ["wait-for-leader.mjs", "acl-bootstrap.mjs"]) {
    const run = runProvisioner(twin, script, publishHost());
    if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}${run.stdout}`);
  }
  applyConsulStack(twin, publishHost());
});

afterAll(() => {
  spawnSync("bash", [hostsScript, "remove", hostsDir]);
});

/**
 * One of the CLI's npm scripts from the checkout, run on the publish host (in its network namespace) with the test's
 * Docker contexts and no DOCKER_HOST: each host is reached through its context, as the topology says.
 */
function cliOnPublishHost(script: string, args: string[] = []): Promise<{ status: number | null; stdout: string }> {
  const words = (JSON.parse(checkout.file("package.json")).scripts[script] as string).split(" ");
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig, CONSUL_LAB_TOPOLOGY: topologyFile };
  delete env.DOCKER_HOST;
  const child = spawn("nsenter", [`--net=${publishHost()}`, process.execPath, ...words.slice(1), ...args], {
    cwd: checkout.root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stdout += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout })));
}

const report = () => JSON.parse(checkout.file("verify-report.json"));

describe("the user's path on the twin lab over three hosts in a swarm", () => {
  it("puts each node's containers on its own host, the publish node's namespace on the overlay only", () => {
    for (const node of twin.lab.nodes) {
      const names = docker(
        ["ps", "--format", "{{.Names}}", "--filter", `label=consul-lab.node=${node.name}`],
        envOf(hostOf(node.name)),
      );
      expect(names.stdout.split("\n").filter(Boolean)).toHaveLength(4);
    }
    const publishNamespace = JSON.parse(
      dockerOk(
        ["inspect", twin.lab.dockerName(twin.lab.publishNode.name, "net")],
        envOf(hostOf(twin.lab.publishNode.name)),
      ),
    )[0];
    expect(Object.keys(publishNamespace.NetworkSettings.Networks)).toEqual([
      expect.stringMatching(new RegExp(`^${twin.lab.topology.name}$`)),
    ]);
  });

  it("passes npm run verify, run on the publish host through the published ports", async () => {
    await until("npm run verify to pass", 300, async () => (await cliOnPublishHost("verify")).status === 0, 2000);
    expect(failedRows(report().facts)).toEqual([]);
  });

  it("passes every step of npm run verify -- --drill, a host's loss included", async () => {
    const drill = await cliOnPublishHost("verify", ["--drill"]);
    const rows = report().drill as { step: string; expected: string; seen: string; ok: boolean }[];
    for (const row of rows) console.log(`twin drill, three hosts: ${row.step} | ${row.expected} | ${row.seen}`);
    expect(failedRows(rows)).toEqual([]);
    expect(failedRows(report().factsAfterDrill)).toEqual([]);
    expect(drill.status).toBe(0);
  });

  it("comes back whole after a host's engine restarts once npm run repair has run, and verify passes again", async () => {
    // A host other than the publish node's: its engine stops and starts as on a reboot (hosts.sh restart).
    const host = HOSTS.find((candidate) => candidate !== hostOf(twin.lab.publishNode.name))!;
    const restarted = spawnSync("bash", [hostsScript, "restart", hostsDir, host.slice(1)], { encoding: "utf8" });
    expect(restarted.stderr).toBe("");
    expect(restarted.status).toBe(0);
    const repair = await cliOnPublishHost("repair");
    expect(repair.status).toBe(0);
    await until(
      "npm run verify to pass after the restart",
      300,
      async () => (await cliOnPublishHost("verify")).status === 0,
      2000,
    );
    expect(failedRows(report().facts)).toEqual([]);
  });
});
