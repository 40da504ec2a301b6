/**
 * The twin lab's cluster on one engine, applied from the synthesized cluster stack by the twin's apply
 * (twin-apply.ts): every node's namespace and agent container as synthesized, its uploads as Terraform evaluates them
 * with this run's secrets, the twin consul image (its entrypoint's chown and drop to the consul user) with the Consul
 * twin inside. Then the stack's own deploy-time scripts, as their provisioners declare them: the leader gate through
 * the published HTTPS API, and the ACL bootstrap, after which each node's token registers its services and the load
 * balancers' maintenance watch runs the real handler with its own token. The leader's loss elects another within
 * Consul's election times, and with two servers lost there is none.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { docker, dockerOk, removeLab, uniqueLab } from "./engine";
import { httpsGet } from "./twin";
import { applyContainers, prepareTwin, runProvisioner, type Twin } from "./twin-apply";

jest.setTimeout(300_000);

let name: string;
let twin: Twin;
let appliedAt = 0;

beforeAll(async () => {
  const engineLab = await uniqueLab();
  name = engineLab.name;
  twin = prepareTwin(engineLab.topologyFile);
  appliedAt = Date.now();
  applyContainers(twin, { roles: ["netns", "agent"] });
});

afterAll(() => {
  if (name) removeLab(name);
});

const namespaceOf = (node: string) => twin.lab.dockerName(node, "net");

/** A GET of an agent's own loopback API from its node's namespace container (BusyBox's wget); status and body. */
function askFrom(node: string, path: string, token?: string): { ok: boolean; body: string } {
  const header = token ? ["--header", `X-Consul-Token: ${token}`] : [];
  const asked = docker(["exec", namespaceOf(node), "wget", "-q", "-O", "-", ...header, `http://127.0.0.1:8500${path}`]);
  return { ok: asked.status === 0, body: asked.status === 0 ? asked.stdout : asked.stderr.trim() };
}

const leaderSeenFrom = (node: string): string => {
  const asked = askFrom(node, "/v1/status/leader");
  return asked.ok ? JSON.parse(asked.body) : `no answer: ${asked.body}`;
};

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
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const serverAddress = (leader: string) => leader.replace(/:8300$/, "");
const nodeAt = (address: string) => twin.lab.nodes.find((node) => node.address === address)!.name;
const servers = () => twin.lab.nodes.filter((node) => node.role === "server");

describe("the twin lab's cluster on one engine, applied from the synthesized stack", () => {
  it("runs each agent as the consul user, its data volume chowned by the image's entrypoint", () => {
    for (const node of twin.lab.nodes) {
      const agent = twin.lab.dockerName(node.name);
      expect(dockerOk(["exec", agent, "stat", "-c", "%U:%G", "/consul/data"]).trim()).toBe("consul:consul");
      expect(dockerOk(["exec", agent, "sh", "-c", "cat /proc/1/status | grep ^Uid"]).split(/\s+/)[1]).toBe("100");
    }
  });

  it("passes the cluster stack's leader gate, run as its provisioner declares it, through the published API", () => {
    const gate = runProvisioner(twin, "wait-for-leader.mjs");
    expect(gate.stderr).toBe("");
    expect(gate.status).toBe(0);
    const leader = /wait-for-leader: leader (\S+) after (\d+) s/.exec(gate.stdout);
    expect(servers().map((node) => node.address)).toContain(serverAddress(leader![1]));
    console.log(`twin timing: first leader ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after the apply began`);
  });

  it("applies the ACL plan with the stack's bootstrap, after which each node's token registers its services", async () => {
    const bootstrap = runProvisioner(twin, "acl-bootstrap.mjs");
    expect(bootstrap.stderr).toBe("");
    expect(bootstrap.status).toBe(0);
    expect(bootstrap.stdout).toContain("acl-bootstrap: anonymous token: no policy");
    const ca = readFileSync(join(twin.tlsDir, "ca.pem"), "utf8");
    const port = twin.lab.topology.publish.httpPort;
    // Every node's services, each registered with its own node's token.
    const wanted = [...new Set(["consul", ...twin.lab.nodes.flatMap((node) => servicesOf(node.name))])].sort();
    const { value: registered } = await waitFor("every node's service in the catalog", 30, () => {
      const asked = askFrom("dev1004", "/v1/catalog/services", twin.managementToken);
      const names = asked.ok ? Object.keys(JSON.parse(asked.body)).sort() : [];
      return wanted.every((service) => names.includes(service)) ? names : undefined;
    });
    expect(registered).toEqual(wanted);
    // The anonymous token reads nothing: the published API without a token is refused.
    expect(await httpsGet(port, ca, twin.lab.serverTlsName, "/v1/kv/web?recurse")).toMatch(/^(403|404)/);
  });

  it("runs the load balancers' maintenance watch with the real handler, which sets the flag with its own token", async () => {
    // No app server runs in this twin yet: the site's instances are critical, so the handler sets maintenance on.
    const key = "web/test.hoge.dev.jp/maintenance/key";
    const { value } = await waitFor("the maintenance flag", 60, () => {
      const asked = askFrom("dev1004", `/v1/kv/${key}?raw`, twin.managementToken);
      return asked.ok ? asked.body : undefined;
    });
    expect(value).toBe("on");
  });

  it("elects another leader within Consul's election times when the leader's agent stops, and none without a quorum", async () => {
    const first = serverAddress(leaderSeenFrom("dev1004"));
    dockerOk(["stop", "--time", "1", twin.lab.dockerName(nodeAt(first))]);
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

    dockerOk(["stop", "--time", "1", twin.lab.dockerName(nodeAt(second))]);
    const { after } = await waitFor("no leader", 30, () => (leaderSeenFrom("dev1004") === "" ? true : undefined));
    console.log(`twin timing: quorum lost -> no leader in ${after.toFixed(1)} s`);
    const read = askFrom("dev1004", "/v1/kv/web/test.hoge.dev.jp/maintenance/key", twin.managementToken);
    expect(read.body).toContain("500 Internal Server Error");

    for (const address of [first, second]) dockerOk(["start", twin.lab.dockerName(nodeAt(address))]);
    await waitFor("a leader again", 40, () => (leaderSeenFrom("dev1004").includes(":8300") ? true : undefined));
  });
});

/** The services a node's agent registers, by name, from its rendered definition. */
function servicesOf(node: string): string[] {
  const upload = (Object.values(twin.stack.resource.docker_container) as any[])
    .find((container) => container.name === twin.lab.dockerName(node))
    .upload.find((file: any) => file.file === "/consul/config/agent.json");
  return (JSON.parse(upload.content).services ?? []).map((service: any) => service.name);
}
