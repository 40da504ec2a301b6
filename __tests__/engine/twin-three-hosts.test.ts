/**
 * The twin lab's cluster over three hosts: three dockerd on this machine, each in a network namespace of its own
 * (hosts.sh), joined in one swarm, and the cluster stack applied by the twin's apply (twin-apply.ts) with each node's
 * containers on its host's engine. The publish node's namespace is on the overlay only, so its published ports reach
 * it through docker_gwbridge: the stack's own leader gate and ACL bootstrap, run on the publish host as their
 * provisioners declare them, reach the cluster through the published HTTPS API (the seam that was dead before Consul
 * listened on 0.0.0.0 there), and the leader's loss on one host elects another on another.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SWARM_ATTACH_FAILURE } from "../../cli/terraform";
import { docker, dockerOk, TEST_IMAGE, uniqueLab } from "./engine";
import { applyContainers, prepareTwin, runProvisioner, type Twin } from "./twin-apply";

jest.setTimeout(300_000);

const HOSTS = ["h1", "h2", "h3"] as const;
// Under the run's engine folder, so run.sh removes them even when this file never gets to its afterAll.
const hostsDir = mkdtempSync(join(process.env.CONSUL_LAB_ENGINE_DIR ?? "/tmp", "hosts-"));
const hostsScript = join(__dirname, "hosts.sh");
const envOf = (host: string | undefined): NodeJS.ProcessEnv => {
  if (!host) throw new Error("every node of a lab over several hosts has a host");
  return { ...process.env, DOCKER_HOST: `unix://${hostsDir}/${host}/docker.sock` };
};
let twin: Twin;

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
  const image = join(hostsDir, "image.tar");
  dockerOk(["save", "--output", image, TEST_IMAGE]);
  for (const host of HOSTS) dockerOk(["load", "--input", image], envOf(host));
  dockerOk(["swarm", "init", "--advertise-addr", `192.168.${network}.1`], envOf("h1"));
  const token = dockerOk(["swarm", "join-token", "--quiet", "worker"], envOf("h1")).trim();
  for (const host of HOSTS.slice(1))
    dockerOk(["swarm", "join", "--token", token, `192.168.${network}.1:2377`], envOf(host));

  twin = prepareTwin(engineLab.topologyFile);
  applyContainers(twin, { roles: ["netns", "agent"], engineOf: envOf, start: startRetrying });
});

afterAll(() => {
  spawnSync("bash", [hostsScript, "remove", hostsDir]);
});

function leaderSeenFrom(node: string): string {
  const asked = docker(
    ["exec", twin.lab.dockerName(node, "net"), "wget", "-q", "-O", "-", "http://127.0.0.1:8500/v1/status/leader"],
    envOf(hostOf(node)),
  );
  return asked.status === 0 ? JSON.parse(asked.stdout) : `no answer: ${asked.stderr.trim()}`;
}

describe("the twin lab's cluster over three hosts in a swarm", () => {
  it("passes the leader gate and the ACL bootstrap through the publish node's published API, on the overlay", () => {
    const publishHost = namespaceOfHost(hostOf(twin.lab.publishNode.name));
    const gate = runProvisioner(twin, "wait-for-leader.mjs", publishHost);
    expect(gate.stderr).toBe("");
    expect(gate.status).toBe(0);
    const leader = /wait-for-leader: leader (\S+) after (\d+) s/.exec(gate.stdout)!;
    const servers = twin.lab.nodes.filter((node) => node.role === "server").map((node) => `${node.address}:8300`);
    expect(servers).toContain(leader[1]);
    const bootstrap = runProvisioner(twin, "acl-bootstrap.mjs", publishHost);
    expect(bootstrap.stderr).toBe("");
    expect(bootstrap.status).toBe(0);
  });

  it("elects a leader on another host when the leader's agent stops", async () => {
    const first = leaderSeenFrom("dev1004").replace(/:8300$/, "");
    const leaderNode = twin.lab.nodes.find((node) => node.address === first)!.name;
    dockerOk(["stop", "--time", "1", twin.lab.dockerName(leaderNode)], envOf(hostOf(leaderNode)));
    const stopped = Date.now();
    let seen = "";
    while (Date.now() - stopped < 40_000) {
      seen = leaderSeenFrom("dev1004");
      if (seen.endsWith(":8300") && !seen.startsWith(`${first}:`)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const elected = twin.lab.nodes.find((node) => `${node.address}:8300` === seen);
    expect(elected).toBeDefined();
    expect(hostOf(elected!.name)).not.toBe(hostOf(leaderNode));
    console.log(
      `twin timing, three hosts: leader loss -> new leader in ${((Date.now() - stopped) / 1000).toFixed(1)} s`,
    );
  });
});
