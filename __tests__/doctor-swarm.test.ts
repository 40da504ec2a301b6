/**
 * The doctor on a lab over several hosts (examples/three-hosts.yaml), each host a fake engine of its own
 * (FAKE_DOCKER_HOSTS): every host's engine checked by name, the swarm they form, and the exact commands that make
 * one when they do not.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { CheckResult, runDoctor } from "../cli/doctor";
import { DockerCli } from "../runtime/docker-cli";
import { labOf } from "./tools/helpers";
import { FAKES_BIN } from "./tools/lab-checkout";
import { engineIn, swarmEngines } from "./tools/swarm-engines";
import { freeLoopbackPort } from "./tools/ports";

let ports: number[];
beforeAll(async () => {
  ports = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
});

async function doctor(
  change: Parameters<typeof swarmEngines>[0] = () => {},
  topology: (input: any) => void = () => {},
  extraEngines: Record<string, unknown> = {},
  extraEnv: NodeJS.ProcessEnv = {},
) {
  const dir = swarmEngines(change);
  for (const [file, state] of Object.entries(extraEngines)) writeFileSync(join(dir, file), JSON.stringify(state));
  const input = parse(readFileSync("examples/three-hosts.yaml", "utf8"));
  input.publish = { httpPort: ports[0], dnsPort: ports[1], entryPort: ports[2] };
  topology(input);
  const log = join(dir, "calls.jsonl");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${FAKES_BIN}:${process.env.PATH}`,
    FAKE_DOCKER_HOSTS: dir,
    FAKE_LOG: log,
    CONSUL_LAB_SECRETS_FILE: join(dir, "absent.json"),
    // The user's own engine variables, which a host's own settings must replace.
    DOCKER_HOST: "unix:///somewhere/else.sock",
    DOCKER_CONTEXT: "someone-elses",
    ...extraEnv,
  };
  const results = await runDoctor({
    lab: labOf(input),
    env,
    docker: new DockerCli(env),
    routeTable: "",
    tlsDir: join(dir, "no-tls-yet"),
  });
  const calls = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return {
    results: Object.fromEntries(results.map((result) => [result.check, result])) as Record<string, CheckResult>,
    calls,
  };
}

describe("the doctor on a lab over three hosts", () => {
  it("names a host's context that the Docker CLI finds under DOCKER_CONFIG and the Docker provider cannot", async () => {
    const root = mkdtempSync(join(tmpdir(), "consul-lab-contexts-"));
    // Where the CLI looks with DOCKER_CONFIG set, and where the provider looks: the password database's home.
    const meta = join(root, "cli", "contexts", "meta", createHash("sha256").update("lab-c").digest("hex"));
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, "meta.json"), JSON.stringify({ Name: "lab-c" }));
    const env = { DOCKER_CONFIG: join(root, "cli"), CONSUL_LAB_PASSWD_HOME: join(root, "home") };
    const { results } = await doctor(undefined, undefined, {}, env);
    expect(results["provider contexts"]).toMatchObject({
      ok: false,
      detail: `context lab-c (host lab-c) is in ${join(root, "cli")}, where the Docker CLI looks; the Docker provider reads contexts only from ${join(root, "home", ".docker")}`,
    });
    // Once it is where the provider looks too, the check passes.
    const there = join(root, "home", ".docker", "contexts", "meta", createHash("sha256").update("lab-c").digest("hex"));
    mkdirSync(there, { recursive: true });
    writeFileSync(join(there, "meta.json"), JSON.stringify({ Name: "lab-c" }));
    expect((await doctor(undefined, undefined, {}, env)).results["provider contexts"].ok).toBe(true);
  });

  it("checks each host's engine by name, the swarm, and the publish host's ports and forwards", async () => {
    const { results } = await doctor();
    expect(Object.values(results).filter((result) => !result.ok)).toEqual([]);
    expect(Object.keys(results)).toEqual([
      "node",
      "terraform",
      "environment",
      "provider contexts",
      "docker host",
      "docker engine on lab-a",
      "docker engine on lab-b",
      "docker engine on lab-c",
      "swarm",
      "image store on lab-a",
      "image store on lab-b",
      "image store on lab-c",
      "ports",
      "subnet on lab-a",
      "images on lab-a",
      "subnet on lab-b",
      "images on lab-b",
      "subnet on lab-c",
      "images on lab-c",
      "ssh forwards",
      "secrets",
      "tls",
    ]);
    expect(results.swarm.detail).toContain(
      "3 hosts are ready and active in one swarm, managed from lab-a (192.168.77.1:2377)",
    );
    expect(results["docker host"].detail).toContain("ssh://ops@lab-a.example.test (lab-a, the publish node's), remote");
  });

  it("sends each host's docker commands to that host, never to the user's own engine", async () => {
    const { calls } = await doctor();
    const engineOf = (call: any) => call.docker?.DOCKER_HOST ?? `context ${call.docker?.DOCKER_CONTEXT}`;
    const engines = new Set(calls.filter((call) => call.program === "docker").map(engineOf));
    expect([...engines].sort()).toEqual([
      "context lab-c",
      "ssh://ops@lab-a.example.test",
      "ssh://ops@lab-b.example.test",
    ]);
    const toLabC = calls.filter((call) => call.program === "docker" && call.docker?.DOCKER_CONTEXT === "lab-c");
    expect(toLabC.every((call) => call.docker.DOCKER_HOST === undefined)).toBe(true);
    // The forwards come from the publish node's host.
    expect(calls.filter((call) => call.program === "ssh").map((call) => `${call.event} ${call.argv.at(-1)}`)).toEqual([
      "opened ops@lab-a.example.test",
      "closed ops@lab-a.example.test",
    ]);
  });

  it("prints the swarm init for a manager that is in no swarm", async () => {
    const { results } = await doctor((engines) => {
      engines["lab-a"]!.info.Swarm = { LocalNodeState: "inactive", ControlAvailable: false };
    });
    expect(results.swarm).toMatchObject({
      ok: false,
      detail: expect.stringContaining("lab-a, which creates the lab's overlay network, is not in a swarm (inactive)"),
    });
    expect(results.swarm.fix).toContain(
      "`DOCKER_HOST=ssh://ops@lab-a.example.test docker swarm init --advertise-addr <lab-a's address on the hosts' network>`",
    );
  });

  it("prints each missing host's join command, with the manager's token and address", async () => {
    const { results } = await doctor((engines) => {
      engines["lab-b"]!.info.Swarm = { LocalNodeState: "inactive" };
      engines["lab-c"]!.info.Swarm = { NodeID: "elsewhere", LocalNodeState: "active" };
    });
    expect(results.swarm.ok).toBe(false);
    expect(results.swarm.detail).toBe("lab-b is not in a swarm (inactive); lab-c is in another swarm than lab-a's");
    expect(results.swarm.fix).toBe(
      "`DOCKER_HOST=ssh://ops@lab-b.example.test docker swarm join --token SWMTKN-1-worker-token 192.168.77.1:2377`; " +
        "`docker --context lab-c swarm leave`, then `docker --context lab-c swarm join --token SWMTKN-1-worker-token 192.168.77.1:2377`",
    );
  });

  it("names a host that is down in the swarm, or drained", async () => {
    const { results } = await doctor((engines) => {
      const nodes = engines["lab-a"]!.swarmNodes;
      nodes[1].Status = "Down";
      nodes[2].Availability = "Drain";
    });
    expect(results.swarm.detail).toBe("lab-b is Down/Active in the swarm; lab-c is Ready/Drain in the swarm");
    expect(results.swarm.fix).toContain(
      "`DOCKER_HOST=ssh://ops@lab-a.example.test docker node update --availability active node-lab-c`",
    );
  });

  it("refuses a manager host that is a worker", async () => {
    const { results } = await doctor((engines) => {
      engines["lab-a"]!.info.Swarm.ControlAvailable = false;
    });
    expect(results.swarm).toMatchObject({
      ok: false,
      detail: "lab-a is a swarm worker, and the lab's overlay network is created through a manager",
    });
  });

  it("names a host whose engine does not answer, and checks nothing further on any host", async () => {
    const { results } = await doctor((engines) => {
      engines["lab-b"] = undefined;
    });
    expect(results["docker engine on lab-b"]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("cannot reach the engine at ssh://ops@lab-b.example.test"),
      fix: "check that the host is up and that `ssh ops@lab-b.example.test docker version` works from here",
    });
    expect(results["docker engine on lab-a"].ok).toBe(true);
    expect(Object.keys(results).filter((check) => /^(ports|subnet|images)/.test(check))).toEqual([]);
  });

  it("checks a manager that runs no node, through which the overlay is made", async () => {
    const manager = engineIn("lab-a");
    manager.info.Swarm.NodeID = "node-mgr";
    manager.swarmNodes.push({ ID: "node-mgr", Hostname: "mgr", Status: "Ready", Availability: "Active" });
    const { results } = await doctor(
      (engines) => {
        // lab-a is a worker now.
        engines["lab-a"]!.info.Swarm.ControlAvailable = false;
        delete engines["lab-a"]!.swarmNodes;
      },
      (input) => {
        input.hosts.unshift({ name: "mgr", endpoint: "ssh://ops@mgr.example.test", manager: true });
        input.hosts[1].manager = false;
        input.nodes.forEach(
          (node: { host?: string }, index: number) => (node.host = ["lab-a", "lab-b", "lab-c"][index % 3]),
        );
      },
      { "ssh___ops_mgr.example.test.json": manager },
    );
    expect(results["docker engine on mgr"].ok).toBe(true);
    // It runs no node: nothing is pulled or built there, so its images are not asked for.
    expect(Object.keys(results).filter((check) => check.startsWith("image") && check.endsWith("on mgr"))).toEqual([]);
    expect(results["subnet on mgr"].ok).toBe(true);
    expect(results.swarm).toMatchObject({
      ok: true,
      detail: expect.stringContaining("4 hosts are ready and active in one swarm, managed from mgr"),
    });
  });
});
