/**
 * The user's path on the twin lab, one engine: the cluster stack applied as synthesized by the twin's apply
 * (twin-apply.ts: every container with its uploads, the twin images with the Consul and consul-template twins inside,
 * the stack's leader gate and ACL bootstrap run as their provisioners declare them), the consul stack applied as the
 * Consul provider would, then the real CLI from a checkout holding this lab's secrets: `npm run verify`, then
 * `npm run verify -- --drill`, an image change rolled over the servers behind the deploy's own gate, then a daemon
 * restart, `npm run repair` and `npm run verify` again. Nothing is deleted
 * from the synthesized settings: the published ports are the ones the CLI uses.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LabCheckout } from "../tools/lab-checkout";
import { serversToRoll, waitForServerBack } from "../../cli/rolling-servers";
import { ConsulApi } from "../../runtime/consul-api";
import { MEMORY_FLOORS_MIB } from "../../topology";
import { docker, dockerOk, removeLab, restartEngine, uniqueLab } from "./engine";
import {
  applyConsulStack,
  applyContainers,
  prepareTwin,
  replaceContainer,
  runProvisioner,
  TWIN_ROLES,
  type Twin,
} from "./twin-apply";
import { failedRows, until } from "./twin";

jest.setTimeout(600_000);

/** A running container's peak memory since it started, from its memory cgroup (v1 or v2), in bytes. */
function peakMemoryBytes(container: string): number {
  const pid = dockerOk(["inspect", "--format", "{{.State.Pid}}", container]).trim();
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((line) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(line));
  if (v1) return Number(readFileSync(`/sys/fs/cgroup/memory${v1.split(":")[2]}/memory.max_usage_in_bytes`, "utf8"));
  const v2 = lines.find((line) => line.startsWith("0::"))!;
  return Number(readFileSync(`/sys/fs/cgroup${v2.slice(3)}/memory.peak`, "utf8"));
}

let name: string;
let topologyFile: string;
let twin: Twin;
let checkout: LabCheckout;
let appliedAt = 0;
/** When each part of the apply was done, in seconds from its start, for the timing table. */
const timings: Record<string, number> = {};

beforeAll(async () => {
  const engineLab = await uniqueLab();
  ({ name, topologyFile } = engineLab);
  checkout = new LabCheckout();
  twin = prepareTwin(topologyFile, checkout.root);
  appliedAt = Date.now();
  applyContainers(twin, { roles: TWIN_ROLES });
  timings.containers = (Date.now() - appliedAt) / 1000;
  for (const script of ["wait-for-leader.mjs", "acl-bootstrap.mjs"]) {
    const run = runProvisioner(twin, script);
    if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}${run.stdout}`);
  }
  timings.leaderAndAcls = (Date.now() - appliedAt) / 1000;
  applyConsulStack(twin);
});

afterAll(() => {
  if (name) removeLab(name);
});

/** The real CLI from the checkout, with the real docker against the private engine (no fakes on the PATH). */
const cli = (script: string, args: string[] = []) =>
  checkout.script(script, args, {
    CONSUL_LAB_TOPOLOGY: topologyFile,
    PATH: process.env.PATH!,
    DOCKER_HOST: process.env.DOCKER_HOST!,
  });

const entryPage = async () => {
  try {
    const response = await fetch(`http://127.0.0.1:${twin.lab.topology.publish.entryPort}/`, {
      signal: AbortSignal.timeout(3000),
    });
    return await response.text();
  } catch {
    return "";
  }
};

const report = () => JSON.parse(readFileSync(join(checkout.root, "verify-report.json"), "utf8"));

describe("the user's path on the twin lab, one engine", () => {
  it("runs each program as its image does: the agents as the consul user, on volumes the entrypoint chowned", () => {
    for (const node of twin.lab.nodes) {
      const agent = twin.lab.dockerName(node.name);
      expect(dockerOk(["exec", agent, "stat", "-c", "%U:%G", "/consul/data"]).trim()).toBe("consul:consul");
      expect(dockerOk(["exec", agent, "sh", "-c", "grep ^Uid /proc/1/status"]).split(/\s+/)[1]).toBe("100");
    }
  });

  it("serves the site from the app servers through the published entry, and npm run verify passes every fact", async () => {
    await until("an app server's page at the entry", 180, async () =>
      (await entryPage()).includes("Served by app server"),
    );
    timings.siteServed = (Date.now() - appliedAt) / 1000;
    // Every check passing takes longer: each load balancer renders once consul-template's retries, which back off
    // to 30 s while its token did not exist yet, find the token the ACL bootstrap made.
    await until("npm run verify to pass", 240, async () => (await cli("verify")).status === 0);
    timings.verifyPasses = (Date.now() - appliedAt) / 1000;
    console.log(`twin apply: ${JSON.stringify(timings)} (seconds from the apply's start)`);
    expect(failedRows(report().facts)).toEqual([]);
  });

  it("keeps every ACL token out of every container's environment: the programs read them from files", () => {
    const containers = dockerOk(["ps", "--filter", `label=consul-lab.lab=${name}`, "--format", "{{.Names}}"])
      .trim()
      .split("\n");
    // Every token the lab's ACLs know is a UUID (renderers/derived-uuid.ts).
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
    for (const container of containers)
      expect({ container, env: dockerOk(["inspect", "--format", "{{json .Config.Env}}", container]) }).toEqual({
        container,
        env: expect.not.stringMatching(uuid),
      });
    const balancer = twin.lab.dockerName("dev1002", "load-balancer");
    expect(dockerOk(["exec", balancer, "stat", "-c", "%a %U", "/etc/consul-template/consul-token"]).trim()).toBe(
      "400 root",
    );
    // consul-template read its token from that file: with ACLs denying by default, the site it rendered (the test
    // before) needs it.
  });

  it("passes every step of npm run verify -- --drill", async () => {
    const drill = await cli("verify", ["--drill"]);
    const rows = report().drill as { step: string; expected: string; seen: string; ok: boolean }[];
    expect(failedRows(rows)).toEqual([]);
    expect(failedRows(report().factsAfterDrill)).toEqual([]);
    expect(drill.status).toBe(0);
    // The measured times, for the table of the twin's timings in docs/development.md.
    for (const row of rows) console.log(`twin drill: ${row.step} | ${row.expected} | ${row.seen}`);
    expect(docker(["ps", "--filter", `label=consul-lab.lab=${name}`, "--filter", "status=exited", "-q"]).stdout).toBe(
      "",
    );
  });

  it("keeps every container's peak memory, after the drill, at half its kind's floor or less", () => {
    // The drill's load has passed through every container; the memory cgroup keeps each one's peak since it started.
    const kindOf: Record<string, keyof typeof MEMORY_FLOORS_MIB> = {
      netns: "namespace",
      agent: "agent",
      dns: "dns",
      app: "page",
      sorry: "page",
      entry: "page",
      "load-balancer": "loadBalancer",
    };
    const peaks = dockerOk([
      "ps",
      "--filter",
      `label=consul-lab.lab=${name}`,
      "--format",
      '{{.Names}} {{.Label "consul-lab.role"}}',
    ])
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .map(([container, role]) => ({ container, kind: kindOf[role], mib: peakMemoryBytes(container) / 2 ** 20 }));
    expect(new Set(peaks.map((peak) => peak.kind))).toEqual(new Set(Object.values(kindOf)));
    for (const peak of peaks)
      console.log(`twin memory: ${peak.kind} ${peak.container} peaked at ${peak.mib.toFixed(1)} MiB`);
    // The agent runs the Consul twin, not Consul: its floor is documented, not measured (MEMORY_FLOORS_MIB).
    const measured = peaks.filter((peak) => peak.kind !== "agent");
    expect(measured.filter((peak) => peak.mib > MEMORY_FLOORS_MIB[peak.kind].mib / 2)).toEqual([]);
  });

  it("keeps its leader and state through an image change rolled one server at a time behind the deploy's gate", async () => {
    // A new Consul image, as a new pin would bring: every server's agent is replaced, in the order and with the gate
    // `npm run deploy` uses (cli/rolling-servers.ts), the agent containers replaced as a targeted apply replaces them.
    const newImage = "consul-lab-twin/consul:next";
    dockerOk(["tag", "consul-lab-twin/consul:1.20", newImage]);
    const servers = twin.lab.servers.map((server) => server.name);
    const changes = Object.entries(twin.stack.resource.docker_container)
      .filter(([, container]) => servers.map((server) => twin.lab.dockerName(server)).includes(container.name))
      .map(([key]) => ({ address: `docker_container.${key}`, change: { actions: ["delete", "create"] } }));
    const order = serversToRoll(twin.lab, twin.stack, changes);
    expect(order).toEqual([...servers.filter((s) => s !== "dev1001"), "dev1001"]);
    const ca = readFileSync(join(twin.tlsDir, "ca.pem"), "utf8");
    const api = new ConsulApi(twin.lab.publishedHttpAddress, twin.managementToken, {
      tls: { ca, serverName: twin.lab.serverTlsName },
    });
    const gateLines: string[] = [];
    for (const server of order) {
      const started = Date.now();
      replaceContainer(twin, twin.lab.dockerName(server), { image: newImage });
      await waitForServerBack(api, server, {
        timeoutMs: 120_000,
        pollMs: 1000,
        progress: (line) => gateLines.push(line),
      });
      console.log(`twin rolling: ${server} replaced and back in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    expect(gateLines).toEqual(
      order.map((server) =>
        expect.stringMatching(new RegExp(`^${server} is back: a voter, leader \\S+ held still, autopilot healthy$`)),
      ),
    );
    for (const server of servers)
      expect(dockerOk(["inspect", "--format", "{{.Config.Image}}", twin.lab.dockerName(server)]).trim()).toBe(newImage);
    // The cluster's state came through: the ACL tokens (verify's own), the KV store, the catalog.
    await until("npm run verify to pass after the rolling change", 120, async () => (await cli("verify")).status === 0);
    expect(failedRows(report().facts)).toEqual([]);
  });

  it("comes back whole after a daemon restart once npm run repair has run, and verify passes again", async () => {
    restartEngine();
    const repair = await cli("repair");
    expect(repair.status).toBe(0);
    // The cluster elects again and the load balancers render again; verify is the judge.
    await until("verify to pass after the restart", 240, async () => (await cli("verify")).status === 0);
    expect(failedRows(report().facts)).toEqual([]);
  });
});
