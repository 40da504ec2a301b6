/**
 * The twin lab's cluster over three hosts: three dockerd on this machine, each in a network namespace of its own
 * (hosts.sh), joined in one swarm; the lab's attachable overlay as synthesized, and each node's namespace and agent
 * (with the Consul twin) on its host. The publish node's namespace is on the overlay only, so its published ports
 * reach it through docker_gwbridge: the cluster stack's own leader gate, run on the publish host as its provisioner
 * declares it, finds the leader through the published HTTPS API (the seam that was dead before Consul listened on
 * 0.0.0.0 there), and the leader's loss on one host elects another on another.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SWARM_ATTACH_FAILURE } from "../../cli/terraform";
import { type Lab } from "../../topology";
import { labOf } from "../tools/helpers";
import { PROJECT_ROOT } from "../tools/synth";
import { createNetwork, docker, dockerOk, synthesizedCluster, TEST_IMAGE, uniqueLab } from "./engine";
import { agentFiles, type Pod, runningOrLogs, runPod, twinFolder } from "./twin";

jest.setTimeout(300_000);

const HOSTS = ["h1", "h2", "h3"] as const;
// Under the run's engine folder, so run.sh removes them even when this file never gets to its afterAll.
const hostsDir = mkdtempSync(join(process.env.CONSUL_LAB_ENGINE_DIR ?? "/tmp", "hosts-"));
const hostsScript = join(__dirname, "hosts.sh");
const envOf = (host: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DOCKER_HOST: `unix://${hostsDir}/${host}/docker.sock`,
});
let lab: Lab;
let cluster: ReturnType<typeof synthesizedCluster>;
let tlsDir: string;
const pods: Record<string, Pod & { host: string }> = {};

/** Starts a container on the overlay, retrying a failed attach as the deploy does (SWARM_ATTACH_FAILURE). */
const startRetrying = (host: string) => (name: string) => {
  for (let attempt = 1; ; attempt++) {
    const started = docker(["start", name], envOf(host));
    if (started.status === 0) return;
    if (attempt === 3 || !SWARM_ATTACH_FAILURE.test(started.stderr)) throw new Error(started.stderr);
    spawnSync("sleep", ["5"]);
  }
};

const hostOf = (node: string) => HOSTS.find((host) => lab.nodesOn(host).some((placed) => placed.name === node))!;

beforeAll(async () => {
  const started = spawnSync("bash", [hostsScript, "start", hostsDir, String(HOSTS.length)], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`the hosts did not start: ${started.stderr}`);
  const network = readFileSync(join(hostsDir, "net"), "utf8").trim();
  const engineLab = await uniqueLab();
  // Each host a Docker context, as a user names it; the synth only names it, and the test reaches each engine by its
  // socket.
  const input = {
    ...engineLab.input,
    hosts: HOSTS.map((host) => ({ name: host, context: `${engineLab.name}-${host}` })),
  };
  writeFileSync(engineLab.topologyFile, JSON.stringify(input));
  lab = labOf(input);
  const image = join(hostsDir, "image.tar");
  dockerOk(["save", "--output", image, TEST_IMAGE]);
  for (const host of HOSTS) dockerOk(["load", "--input", image], envOf(host));
  dockerOk(["swarm", "init", "--advertise-addr", `192.168.${network}.1`], envOf("h1"));
  const token = dockerOk(["swarm", "join-token", "--quiet", "worker"], envOf("h1")).trim();
  for (const host of HOSTS.slice(1))
    dockerOk(["swarm", "join", "--token", token, `192.168.${network}.1:2377`], envOf(host));

  cluster = synthesizedCluster(engineLab.topologyFile);
  expect(cluster.network).toMatchObject({ driver: "overlay", attachable: true });
  createNetwork(cluster, envOf("h1"));
  tlsDir = mkdtempSync(join(tmpdir(), "consul-twin-tls-"));
  const twin = twinFolder();
  for (const node of lab.nodes) {
    const host = hostOf(node.name);
    const on = { env: envOf(host), start: startRetrying(host) };
    pods[node.name] = { ...runPod(cluster, lab, node.name, agentFiles(lab, node.name, tlsDir), twin, on), host };
  }
  for (const pod of Object.values(pods)) expect(await runningOrLogs(pod.agent, envOf(pod.host))).toBe("running");
});

afterAll(() => {
  spawnSync("bash", [hostsScript, "remove", hostsDir]);
});

/** A command in a host's own network namespace, where its engine publishes the lab's ports on 127.0.0.1. */
function onHost(host: string, command: string, options: { cwd: string; env: NodeJS.ProcessEnv }) {
  const pid = readFileSync(join(hostsDir, host, "dockerd.pid"), "utf8").trim();
  return spawnSync("nsenter", [`--net=/proc/${pid}/ns/net`, "/bin/sh", "-c", command], {
    ...options,
    encoding: "utf8",
    timeout: 200_000,
  });
}

function leaderSeenFrom(node: string): string {
  const pod = pods[node];
  const asked = docker(
    ["exec", pod.namespace, "wget", "-q", "-O", "-", "http://127.0.0.1:8500/v1/status/leader"],
    envOf(pod.host),
  );
  return asked.status === 0 ? JSON.parse(asked.stdout) : `no answer: ${asked.stderr.trim()}`;
}

describe("the twin lab's cluster over three hosts in a swarm", () => {
  it("passes the leader gate through the publish node's published HTTPS API, on the overlay", () => {
    const json = JSON.parse(readFileSync(join(cluster.outdir, "stacks", "cluster", "cdk.tf.json"), "utf8"));
    const gate = Object.values<any>(json.resource.terraform_data).find((resource) =>
      JSON.stringify(resource.provisioner ?? []).includes("wait-for-leader"),
    );
    const exec = gate.provisioner.find((step: any) => step["local-exec"])["local-exec"];
    const root = mkdtempSync(join(tmpdir(), "consul-twin-root-"));
    const stackDir = join(root, "cdktf.out", "stacks", "cluster");
    mkdirSync(stackDir, { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "scripts"), join(root, "scripts"));
    symlinkSync(join(tlsDir, "ca.pem"), join(stackDir, "lab-ca.pem"));
    // The publish node's namespace is on the overlay only: Docker gives it a second interface on docker_gwbridge,
    // through which the published ports arrive.
    const publishHost = hostOf(lab.publishNode.name);
    const gateRun = onHost(publishHost, exec.command, {
      cwd: stackDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...exec.environment },
    });
    expect(gateRun.stderr).toBe("");
    expect(gateRun.status).toBe(0);
    const leader = /wait-for-leader: leader (\S+) after (\d+) s/.exec(gateRun.stdout)!;
    expect(lab.nodes.filter((node) => node.role === "server").map((node) => `${node.address}:8300`)).toContain(
      leader[1],
    );
  });

  it("elects a leader on another host when the leader's agent stops", async () => {
    const first = leaderSeenFrom("dev1004").replace(/:8300$/, "");
    const leaderNode = lab.nodes.find((node) => node.address === first)!.name;
    dockerOk(["stop", "--time", "1", lab.dockerName(leaderNode)], envOf(hostOf(leaderNode)));
    const stopped = Date.now();
    let seen = "";
    while (Date.now() - stopped < 40_000) {
      seen = leaderSeenFrom("dev1004");
      if (seen.endsWith(":8300") && !seen.startsWith(`${first}:`)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const elected = lab.nodes.find((node) => `${node.address}:8300` === seen);
    expect(elected).toBeDefined();
    expect(hostOf(elected!.name)).not.toBe(hostOf(leaderNode));
    console.log(
      `twin timing, three hosts: leader loss -> new leader in ${((Date.now() - stopped) / 1000).toFixed(1)} s`,
    );
  });
});
