/**
 * A lab over several hosts on real engines: three dockerd on this machine, each in a network namespace of its own
 * (hosts.sh), reached as Docker contexts, as a user's topology names them. The doctor's swarm check judges them and
 * prints the commands that join them; run as printed, they make one swarm. The lab's overlay, as the cluster stack
 * synthesizes it, carries namespace containers with their static addresses on every host, nodes on different hosts
 * reach each other, and the CLI's per-host view (runtime/lab-engines.ts) lists and repairs them host by host.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkSwarm } from "../../cli/doctor-swarm";
import { repairLab } from "../../cli/repair";
import { SWARM_ATTACH_FAILURE } from "../../cli/terraform";
import { environmentFor } from "../../shared/docker-hosts";
import { labEngines } from "../../runtime/lab-engines";
import { LabContainers } from "../../runtime/lab-containers";
import { labOf } from "../tools/helpers";
import { createNetwork, deployContainers, docker, dockerOk, synthesizedCluster, TEST_IMAGE, uniqueLab } from "./engine";

const HOSTS = ["h1", "h2", "h3"] as const;
// Under the run's engine folder, so run.sh removes them even when this file never gets to its afterAll.
const hostsDir = mkdtempSync(join(process.env.CONSUL_LAB_ENGINE_DIR ?? "/tmp", "hosts-"));
const hostsScript = join(__dirname, "hosts.sh");
// The test's own Docker CLI configuration, where its contexts live: the user's is never touched.
const dockerConfig = mkdtempSync(join(process.env.TMPDIR ?? "/tmp", "docker-config-"));
const base: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
let network: string; // 192.168.<network>.0/24, the hosts' own network
let lab: ReturnType<typeof labOf>;
let topology: Awaited<ReturnType<typeof uniqueLab>>;
/** Every failed start of a container on the overlay, in Docker's words. */
const attachFailures: string[] = [];

const contextOf = (host: string) => `${topology.name}-${host}`;
const envOf = (host: string) =>
  environmentFor(
    base,
    lab.hosts.find((candidate) => candidate.name === host),
  );

beforeAll(async () => {
  const started = spawnSync("bash", [hostsScript, "start", hostsDir, String(HOSTS.length)], { encoding: "utf8" });
  if (started.status !== 0) throw new Error(`the hosts did not start: ${started.stderr}`);
  network = readFileSync(join(hostsDir, "net"), "utf8").trim();
  topology = await uniqueLab();
  const input = {
    ...topology.input,
    hosts: HOSTS.map((host) => ({ name: host, context: `${topology.name}-${host}` })),
  };
  writeFileSync(topology.topologyFile, JSON.stringify(input));
  lab = labOf(input);
  // The test image, from the suite's own engine into each host's; and a context per host, as a user would make one.
  const image = join(hostsDir, "image.tar");
  dockerOk(["save", "--output", image, TEST_IMAGE]);
  for (const host of HOSTS) {
    const endpoint = `unix://${hostsDir}/${host}/docker.sock`;
    dockerOk(["context", "create", contextOf(host), "--docker", `host=${endpoint}`], base);
    dockerOk(["load", "--input", image], envOf(host));
  }
}, 120_000);

afterAll(() => {
  spawnSync("bash", [hostsScript, "remove", hostsDir]);
});

/** Starts a container on the overlay, retrying a failed attach as the deploy does (SWARM_ATTACH_FAILURE). */
const startRetrying = (host: string) => (name: string) => {
  for (let attempt = 1; ; attempt++) {
    const started = docker(["start", name], envOf(host));
    if (started.status === 0) return;
    attachFailures.push(started.stderr.trim());
    if (attempt === 3 || !SWARM_ATTACH_FAILURE.test(started.stderr)) throw new Error(started.stderr);
    spawnSync("sleep", ["5"]);
  }
};

describe("three hosts on real engines", () => {
  it("are judged by the doctor, whose printed commands make them one swarm", () => {
    const before = checkSwarm(lab, labEngines(lab, base));
    expect(before).toMatchObject({
      ok: false,
      detail: expect.stringContaining("h1, which creates the lab's overlay network, is not in a swarm (inactive)"),
    });
    // The manager's address is the one thing the doctor cannot know; the rest is as printed.
    const init = /`(docker --context \S+ swarm init) --advertise-addr <[^>]+>`/.exec(before.fix!)![1];
    dockerOk([...init.split(" ").slice(1), "--advertise-addr", `192.168.${network}.1`], base);

    const joining = checkSwarm(lab, labEngines(lab, base));
    expect(joining.detail).toBe("h2 is not in a swarm (inactive); h3 is not in a swarm (inactive)");
    const joins = [...joining.fix!.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
    expect(joins).toEqual([
      expect.stringMatching(
        new RegExp(
          `^docker --context ${contextOf("h2")} swarm join --token SWMTKN-\\S+ 192\\.168\\.${network}\\.1:2377$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^docker --context ${contextOf("h3")} swarm join --token SWMTKN-\\S+ 192\\.168\\.${network}\\.1:2377$`,
        ),
      ),
    ]);
    for (const join of joins) dockerOk(join.split(" ").slice(1), base);

    expect(checkSwarm(lab, labEngines(lab, base))).toMatchObject({
      ok: true,
      detail: expect.stringContaining(
        `3 hosts are ready and active in one swarm, managed from h1 (192.168.${network}.1:2377)`,
      ),
    });
  });

  it("carry the lab's overlay as synthesized, with each node's containers on its host at its static address", () => {
    const cluster = synthesizedCluster(topology.topologyFile);
    expect(cluster.network).toMatchObject({ driver: "overlay", attachable: true, provider: "docker.h1" });
    // Without a range of its own, Swarm gives the first host's endpoint the second node's address (.2), and that
    // node's attach fails on its host ("could not allocate IP from IPAM", "context deadline exceeded").
    expect(cluster.network.ipam_config[0].ip_range).toBe(
      labOf(topology.input).swarmAddressRange ?? lab.swarmAddressRange,
    );
    createNetwork(cluster, envOf("h1"));
    // One node per host: dev1001 on h1, dev1002 on h2, dev1003 on h3 (servers first, each on a host of its own).
    for (const host of HOSTS) {
      const nodes = lab
        .nodesOn(host)
        .slice(0, 1)
        .map((node) => node.name);
      deployContainers(cluster, nodes, { env: envOf(host), start: startRetrying(host) });
    }
    for (const host of HOSTS) {
      const node = lab.nodesOn(host)[0];
      const inside = docker(["exec", `${topology.name}-${node.name}`, "ip", "-o", "-4", "addr"], envOf(host)).stdout;
      expect({ host, node: node.name, has: inside.includes(`inet ${node.address}/`) }).toEqual({
        host,
        node: node.name,
        has: true,
      });
    }
    // What failed on the way was a swarm attach, which the deploy retries; nothing else.
    expect(attachFailures.filter((failure) => !SWARM_ATTACH_FAILURE.test(failure))).toEqual([]);
  });

  it("let nodes on different hosts reach each other over the overlay", () => {
    const [first, second] = [lab.nodesOn("h1")[0], lab.nodesOn("h3")[0]];
    // From a plain container joined to the second node's namespace: the lab's own containers drop every capability,
    // ping's raw socket included.
    const ping = docker(
      [
        "run",
        "--rm",
        "--network",
        `container:${topology.name}-${second.name}-net`,
        TEST_IMAGE,
        "-c",
        `ping -c 1 -W 3 ${first.address}`,
      ],
      envOf("h3"),
    );
    expect(ping.stdout).toContain("1 packets received");
  });

  it("are listed host by host, and repaired through each node's own host", async () => {
    const engines = labEngines(lab, base);
    const containers = new LabContainers(engines, topology.name);
    const listed = (await containers.list()).map(
      (container) => `${container.host} ${container.node}/${container.role}`,
    );
    expect(listed.filter((line) => line.endsWith("/netns")).sort()).toEqual(
      HOSTS.map((host) => `${host} ${lab.nodesOn(host)[0].name}/netns`),
    );
    // A host's reboot for one node: its namespace restarted behind the lab's back strands what joined it.
    const stranded = lab.nodesOn("h2")[0].name;
    dockerOk(["restart", `${topology.name}-${stranded}-net`], envOf("h2"));
    const lines: string[] = [];
    expect(await repairLab(engines, topology.name, (line) => lines.push(line))).toBe(true);
    expect(lines).toContain(`h2: restarted ${topology.name}-${stranded} into its node's namespace`);
    expect(lines).toContain("h1: all 1 nodes are whole; nothing to do");
    expect((await containers.pods()).every((pod) => pod.joined.every((joined) => joined.state === "whole"))).toBe(true);
  });
});
