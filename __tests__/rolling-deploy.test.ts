/**
 * No apply takes the cluster down (cli/rolling-servers.ts): a redeploy whose plan replaces every server replaces them
 * one at a time, each with a targeted plan and apply of that node's objects, and asks the cluster after each whether
 * the server is back (a voter, a leader that holds still, autopilot healthy) before the next; the publish node's
 * server last. Run with `npm run deploy`'s command line, the recording fake Terraform (FAKE_REPLACE plays the
 * replacements), and a fake Consul API over HTTPS that notes how many applies had run when it was asked.
 */
import type { Server } from "node:http";
import { createServer } from "node:https";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { articleInput } from "./tools/helpers";
import { LabCheckout } from "./tools/lab-checkout";
import { freeLoopbackPort } from "./tools/ports";
import { nodeAddresses } from "../cli/rolling-servers";

jest.setTimeout(120_000);

const SERVERS = ["dev1001", "dev1002", "dev1003"];

describe("a deploy whose plan replaces every server", () => {
  const checkout = new LabCheckout();
  let env: Record<string, string>;
  let consul: Server;
  /** What the fake Consul was asked, with how many applies the fake Terraform had made by then. */
  const asked: { path: string; appliesSoFar: number }[] = [];
  /** Servers the fake cluster counts as back: all but one while `missing` names it. */
  let missing: string | undefined;

  const applies = () =>
    checkout.calls("terraform").filter((call) => call.argv[0] === "apply" && call.cwd.endsWith("/cluster"));

  beforeAll(async () => {
    const input = articleInput();
    const httpPort = await freeLoopbackPort();
    input.publish = { httpPort, dnsPort: await freeLoopbackPort(), entryPort: await freeLoopbackPort() };
    const topologyFile = join(checkout.root, "lab.json");
    writeFileSync(topologyFile, JSON.stringify(input));
    env = {
      CONSUL_LAB_TOPOLOGY: topologyFile,
      FAKE_REPLACE: join(checkout.root, "replace.txt"),
      CONSUL_LAB_ROLL_POLL_MS: "50",
      CONSUL_LAB_ROLL_GATE_SECONDS: "5",
    };
    expect((await checkout.script("deploy", [], env)).status).toBe(0);
    consul = createServer(checkout.serverTls("dev1001"), (request, response) => {
      asked.push({ path: request.url ?? "", appliesSoFar: applies().length });
      const back = SERVERS.filter((server) => server !== missing);
      const path = (request.url ?? "").split("?")[0];
      const answers: Record<string, unknown> = {
        "/v1/status/leader": "10.0.1.2:8300",
        "/v1/operator/raft/configuration": { Servers: back.map((Node) => ({ Node, Voter: true })) },
        "/v1/operator/autopilot/health": {
          Healthy: missing === undefined,
          Servers: back.map((Name) => ({ Name, Healthy: true, Voter: true })),
        },
      };
      // Consul answers autopilot's health with 429 while anything is unhealthy (agent/operator_endpoint.go).
      if (path === "/v1/operator/autopilot/health" && missing !== undefined) response.statusCode = 429;
      response.end(JSON.stringify(answers[path] ?? null));
    });
    await new Promise<void>((resolve) => consul.listen(httpPort, "127.0.0.1", resolve));
  });

  afterAll(() => new Promise((resolve) => consul.close(resolve)));

  /** Every address of the servers' agent containers, as a new Consul image or certificate would replace them. */
  const replaceServers = () => {
    const stack = JSON.parse(checkout.file("cdktf.out/stacks/cluster/cdk.tf.json"));
    const agents = SERVERS.flatMap((server) => nodeAddresses(stack, server).filter((a) => /_agent_container_/.test(a)));
    expect(agents).toHaveLength(3);
    writeFileSync(env.FAKE_REPLACE, agents.join("\n"));
    return { stack, agents };
  };

  // The fake Consul holds the published API port, which the doctor would report as taken: the redeploys skip it.
  it("replaces them one at a time, the publish node's last, each back in the cluster before the next", async () => {
    const { stack } = replaceServers();
    asked.length = 0;
    const result = await checkout.script("deploy", ["--skip-doctor"], env);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const cluster = checkout.calls("terraform").filter((call) => call.cwd.endsWith("/cluster"));
    // The targeted plans, in order: each a node's objects only.
    const targeted = cluster
      .filter((call) => call.argv[0] === "plan" && call.argv.some((arg) => arg.startsWith("-target=")))
      .map((call) => call.argv.filter((arg) => arg.startsWith("-target=")).map((arg) => arg.slice(8)));
    expect(targeted).toEqual([
      nodeAddresses(stack, "dev1002"),
      nodeAddresses(stack, "dev1003"),
      nodeAddresses(stack, "dev1001"),
    ]);
    // The gate asked after each targeted apply (1, 2, 3 applies so far), and the full apply came after the last gate.
    const gatesAfter = [...new Set(asked.map((request) => request.appliesSoFar))];
    expect(gatesAfter).toEqual([1, 2, 3]);
    expect(applies()).toHaveLength(4);
    expect(readFileSync(env.FAKE_REPLACE, "utf8")).toBe("");
    expect(result.stdout + result.stderr).toContain("replacing them one at a time, so the cluster keeps a leader");
  });

  it("stops, leaving the other servers as they were, when a replaced server does not come back", async () => {
    replaceServers();
    missing = "dev1002";
    try {
      const result = await checkout.script("deploy", ["--skip-doctor"], { ...env, CONSUL_LAB_ROLL_GATE_SECONDS: "1" });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        "server dev1002 was replaced but is not back in the cluster after 1 s (dev1002 is not a voter in the raft configuration)",
      );
      expect(applies()).toHaveLength(1);
      // dev1003 and dev1001 are still to be replaced.
      expect(readFileSync(env.FAKE_REPLACE, "utf8").split("\n")).toHaveLength(2);
    } finally {
      missing = undefined;
    }
  });

  it("npm run diff says it would replace them, and how deploy will", async () => {
    replaceServers();
    const result = await checkout.script("diff", [], env);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "it replaces the servers dev1002, dev1003, dev1001: npm run deploy replaces them one at a time, each back in the cluster before the next",
    );
  });

  it("applies a plan that replaces one server as it is, without a gate", async () => {
    const stack = JSON.parse(checkout.file("cdktf.out/stacks/cluster/cdk.tf.json"));
    writeFileSync(env.FAKE_REPLACE, nodeAddresses(stack, "dev1003").filter((a) => /_agent_container_/.test(a))[0]);
    asked.length = 0;
    const result = await checkout.script("deploy", ["--skip-doctor"], env);
    expect(result.status).toBe(0);
    expect(checkout.calls("terraform").some((call) => call.argv.some((arg) => arg.startsWith("-target=")))).toBe(false);
    expect(asked.filter((request) => request.path.startsWith("/v1/operator/"))).toEqual([]);
  });
});

describe("a node's objects, by construct path", () => {
  const stack = {
    resource: {
      docker_container: {
        a: { "//": { metadata: { path: "cluster/cluster/dev1001/agent/container" } } },
        b: { "//": { metadata: { path: "cluster/cluster/agent/agent/container" } } },
        c: { "//": { metadata: { path: "cluster/cluster/host-lab-a/dev1001/agent/container" } } },
      },
    },
  };

  it("takes only the segment where the cluster puts a node's scope, whatever other constructs are called", () => {
    expect(nodeAddresses(stack, "dev1001")).toEqual(["docker_container.a"]);
    expect(nodeAddresses(stack, "agent")).toEqual(["docker_container.b"]);
    expect(nodeAddresses(stack, "dev1001", true)).toEqual(["docker_container.c"]);
  });
});
