/**
 * The twin lab's cluster on one engine: the article's six nodes, each its namespace and agent container as
 * synthesized, with its rendered config dir and TLS files, and the Consul twin where the image has `consul`
 * (consul-twin/cluster.go: membership, bootstrap_expect, elections and the leader's lease at Consul's times). The
 * cluster stack's own leader gate, run as its provisioner declares it, waits for the leader through the published
 * HTTPS API; the leader's loss elects another within Consul's election times, and with two servers lost there is none.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Lab } from "../../topology";
import { PROJECT_ROOT } from "../tools/synth";
import { docker, dockerOk, removeLab, synthesizedCluster, uniqueLab } from "./engine";
import { agentFiles, httpsGet, onEngine, type Pod, runningOrLogs, runPod, twinFolder } from "./twin";

jest.setTimeout(240_000);

/** The management token of TEST_AGENT_SECRETS, which the rendered secrets.json carries. */
const MANAGEMENT_TOKEN = "MANAGEMENT-TOKEN";

let engineLab: Awaited<ReturnType<typeof uniqueLab>>;
let lab: Lab;
let cluster: ReturnType<typeof synthesizedCluster>;
let tlsDir: string;
const pods: Record<string, Pod> = {};
let agentsStarted = 0;

beforeAll(async () => {
  engineLab = await uniqueLab();
  ({ lab, cluster } = onEngine(engineLab.topologyFile, engineLab.input));
  tlsDir = mkdtempSync(join(tmpdir(), "consul-twin-tls-"));
  const twin = twinFolder();
  agentsStarted = Date.now();
  for (const node of lab.nodes)
    pods[node.name] = runPod(cluster, lab, node.name, agentFiles(lab, node.name, tlsDir), twin);
  for (const pod of Object.values(pods)) expect(await runningOrLogs(pod.agent)).toBe("running");
});

afterAll(() => {
  if (engineLab) removeLab(engineLab.name);
});

/** The leader as an agent's own loopback API answers it (BusyBox's wget in the node's namespace container). */
function leaderSeenFrom(node: string): string {
  const asked = docker([
    "exec",
    pods[node].namespace,
    "wget",
    "-q",
    "-O",
    "-",
    "http://127.0.0.1:8500/v1/status/leader",
  ]);
  return asked.status === 0 ? JSON.parse(asked.stdout) : `no answer: ${asked.stderr.trim()}`;
}

async function waitFor<T>(
  what: string,
  seconds: number,
  probe: () => T | undefined,
): Promise<{ value: T; after: number }> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return { value, after: (Date.now() - started) / 1000 };
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const serverAddress = (leader: string) => leader.replace(/:8300$/, "");
const nodeAt = (address: string) => lab.nodes.find((node) => node.address === address)!.name;

describe("the twin lab's cluster on one engine", () => {
  it("passes the cluster stack's leader gate, run as its provisioner declares it, through the published API", () => {
    const json = JSON.parse(readFileSync(join(cluster.outdir, "stacks", "cluster", "cdk.tf.json"), "utf8"));
    const gates = Object.values<any>(json.resource.terraform_data).filter((resource) =>
      JSON.stringify(resource.provisioner ?? []).includes("wait-for-leader"),
    );
    expect(gates).toHaveLength(1);
    const exec = gates[0].provisioner.find((step: any) => step["local-exec"])["local-exec"];
    // The stack's directory as Terraform runs it, three levels below a root with the project's scripts, and the lab
    // CA's link the stack declares (secret-variables.ts) pointing at this run's CA.
    const root = mkdtempSync(join(tmpdir(), "consul-twin-root-"));
    const stackDir = join(root, "cdktf.out", "stacks", "cluster");
    mkdirSync(stackDir, { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "scripts"), join(root, "scripts"));
    symlinkSync(join(tlsDir, "ca.pem"), join(stackDir, "lab-ca.pem"));
    // As Terraform's local-exec runs it: `/bin/sh -c`, its own environment and the provisioner's
    // (internal/builtin/provisioners/local-exec/resource_provisioner.go at v1.11.0, lines 122 and 148).
    const gate = spawnSync("/bin/sh", ["-c", exec.command], {
      cwd: stackDir,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...exec.environment },
      timeout: 200_000,
    });
    expect(gate.stderr).toBe("");
    expect(gate.status).toBe(0);
    const servers = lab.nodes.filter((node) => node.role === "server").map((node) => node.address);
    const leader = /wait-for-leader: leader (\S+) after (\d+) s/.exec(gate.stdout);
    expect(servers).toContain(serverAddress(leader![1]));
    console.log(
      `twin timing: first leader within ${((Date.now() - agentsStarted) / 1000).toFixed(1)} s of the first agent's start`,
    );
  });

  it("answers peers and the catalog through the published HTTPS API, with the lab's CA and management token", async () => {
    const ca = readFileSync(join(tlsDir, "ca.pem"), "utf8");
    const port = lab.topology.publish.httpPort;
    const peers = await httpsGet(port, ca, lab.serverTlsName, "/v1/status/peers");
    const servers = lab.nodes.filter((node) => node.role === "server").map((node) => `${node.address}:8300`);
    expect(peers).toBe(`200 ${JSON.stringify([...servers].sort())}`);
    // Every node joins within a few of its pushes.
    const { value: nodes } = await waitFor("six nodes in the catalog", 20, () => {
      const body = dockerOkJson(`/v1/catalog/nodes`);
      return body.length === lab.nodes.length ? body : undefined;
    });
    expect(nodes.map((node: any) => node.Node).sort()).toEqual(lab.nodes.map((node) => node.name).sort());
    // Without the token: refused, as under default_policy deny.
    expect(await httpsGet(port, ca, lab.serverTlsName, "/v1/catalog/nodes")).toMatch(/^403 Permission denied/);
  });

  it("elects another leader within Consul's election times when the leader's agent stops, and none without a quorum", async () => {
    const first = serverAddress(leaderSeenFrom("dev1004"));
    dockerOk(["stop", "--time", "1", lab.dockerName(nodeAt(first))]);
    const stopped = Date.now();
    const { value: second } = await waitFor("a new leader", 40, () => {
      const seen = leaderSeenFrom("dev1004");
      return seen.includes(":8300") && serverAddress(seen) !== first ? serverAddress(seen) : undefined;
    });
    const electedAfter = (Date.now() - stopped) / 1000;
    console.log(`twin timing: leader loss -> new leader in ${electedAfter.toFixed(1)} s`);
    // At raft_multiplier 5 a follower waits 5 to 10 s without a heartbeat before it stands (HeartbeatTimeout 5 s).
    expect(electedAfter).toBeGreaterThanOrEqual(4);
    expect(electedAfter).toBeLessThan(25);

    // A second server lost: no quorum, and a KV read says so as Consul does.
    dockerOk(["stop", "--time", "1", lab.dockerName(nodeAt(second))]);
    const { after } = await waitFor("no leader", 30, () => (leaderSeenFrom("dev1004") === "" ? true : undefined));
    console.log(`twin timing: quorum lost -> no leader in ${after.toFixed(1)} s`);
    const read = docker([
      "exec",
      pods.dev1004.namespace,
      "wget",
      "-q",
      "-O",
      "-",
      "--header",
      `X-Consul-Token: ${MANAGEMENT_TOKEN}`,
      "http://127.0.0.1:8500/v1/kv/web/test.hoge.dev.jp/maintenance/key",
    ]);
    expect(read.stderr).toContain("500 Internal Server Error");

    // Both back: a leader again.
    for (const address of [first, second]) dockerOk(["start", lab.dockerName(nodeAt(address))]);
    await waitFor("a leader again", 40, () => (leaderSeenFrom("dev1004").includes(":8300") ? true : undefined));
  });
});

/** A GET of the cluster's API from dev1004's namespace, with the management token; its JSON. */
function dockerOkJson(path: string): any {
  const out = dockerOk([
    "exec",
    pods.dev1004.namespace,
    "wget",
    "-q",
    "-O",
    "-",
    "--header",
    `X-Consul-Token: ${MANAGEMENT_TOKEN}`,
    `http://127.0.0.1:8500${path}`,
  ]);
  return JSON.parse(out);
}
