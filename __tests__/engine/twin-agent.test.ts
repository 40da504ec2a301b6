/**
 * The first piece of the twin lab: a node's namespace and agent container as synthesized, on the private engine, with
 * the agent's real config dir (agent.json and secrets.json as rendered, the lab CA and the server's certificate) and a
 * Consul stand-in (consul-twin/main.go: Go's standard library, built at test time) where the image has `consul`. The
 * stand-in loads the config as Consul 1.20 does and binds exactly Consul's sockets, so what the synth says is tried on
 * a real engine: the published HTTPS API answers with the server's certificate for `server.<dc>.<domain>`, a key
 * Consul does not know stops the agent, and a port two processes of a pod bind stops it too. What it does not model
 * (a cluster, the API beyond status, DNS answers) it refuses.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { renderAgentConfigFiles, TLS_CA_FILE, TLS_SERVER_CERT_FILE, TLS_SERVER_KEY_FILE } from "../../renderers";
import { ensureLabTls } from "../../secrets";
import { type Lab } from "../../topology";
import { labOf, TEST_AGENT_SECRETS } from "../tools/helpers";
import { PROJECT_ROOT } from "../tools/synth";
import {
  asLabOverHosts,
  createNetwork,
  docker,
  dockerOk,
  goBinary,
  hardeningArgs,
  initSwarm,
  removeLab,
  runNamespace,
  synthesizedCluster,
  TEST_IMAGE,
  uniqueLab,
} from "./engine";

jest.setTimeout(120_000);

/** The twin's `consul` and the key table it refuses unknown keys from, in one folder mounted at /consul-twin. */
function twinFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "consul-twin-"));
  copyFileSync(goBinary("consul-twin"), join(dir, "consul"));
  copyFileSync(join(PROJECT_ROOT, "__tests__", "twin", "consul-1.20-config-keys.json"), join(dir, "config-keys.json"));
  return dir;
}

/** The files the agent container receives, as a tree to copy into it: its config dir and its TLS files. */
function agentFiles(lab: Lab, node: string, tlsDir: string, change: (agent: any) => void = () => {}): string {
  const root = mkdtempSync(join(tmpdir(), "consul-twin-files-"));
  const tls = ensureLabTls(lab, tlsDir);
  const files: Record<string, string> = { ...renderAgentConfigFiles(lab, node, TEST_AGENT_SECRETS) };
  const agent = JSON.parse(files["/consul/config/agent.json"]);
  change(agent);
  files["/consul/config/agent.json"] = JSON.stringify(agent);
  files[TLS_CA_FILE] = tls.caCert;
  if (tls.servers[node]) {
    files[TLS_SERVER_CERT_FILE] = tls.servers[node].cert;
    files[TLS_SERVER_KEY_FILE] = tls.servers[node].key;
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

/** A topology file's lab and synthesized cluster stack, its network created on the engine. */
function onEngine(topologyFile: string, input: unknown): { lab: Lab; cluster: ReturnType<typeof synthesizedCluster> } {
  const cluster = synthesizedCluster(topologyFile);
  createNetwork(cluster);
  return { lab: labOf(input), cluster };
}

interface Pod {
  readonly namespace: string;
  readonly agent: string;
}

/** A node's namespace as synthesized, then its agent container with the twin and the node's files; started. */
function runPod(
  cluster: ReturnType<typeof synthesizedCluster>,
  lab: Lab,
  node: string,
  files: string,
  twin: string,
): Pod {
  const resources = Object.values<any>(cluster.container);
  const namespace = resources.find((resource) => resource.name === lab.dockerName(node, "net"));
  const agent = resources.find((resource) => resource.name === lab.dockerName(node));
  runNamespace(cluster, namespace);
  // The official image's entrypoint runs `consul agent -data-dir=/consul/data -config-dir=/consul/config` for the
  // synthesized command ["agent"]; the twin runs as root (the image's chown and su-exec are not modelled here).
  expect(agent.command).toEqual(["agent"]);
  dockerOk([
    "create",
    "--name",
    agent.name,
    "--network",
    `container:${namespace.name}`,
    ...hardeningArgs(agent),
    "--volume",
    `${twin}:/consul-twin:ro`,
    "--entrypoint",
    "/consul-twin/consul",
    TEST_IMAGE,
    "agent",
    "-data-dir=/consul/data",
    "-config-dir=/consul/config",
  ]);
  dockerOk(["cp", `${files}/.`, `${agent.name}:/`]);
  dockerOk(["start", agent.name]);
  return { namespace: namespace.name, agent: agent.name };
}

/** Waits until the agent says it runs, or has exited; its state and its logs. */
async function settle(container: string): Promise<{ running: boolean; logs: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const logs = docker(["logs", container]);
    const text = logs.stdout + logs.stderr;
    const running = dockerOk(["inspect", "--format", "{{.State.Running}}", container]).trim() === "true";
    if (!running || text.includes("Consul twin agent running")) return { running, logs: text };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${container} neither ran nor exited`);
}

/** "running", or the logs of an agent that stopped, which say why. */
async function runningOrLogs(container: string): Promise<string> {
  const seen = await settle(container);
  return seen.running ? "running" : seen.logs;
}

function httpsGet(port: number, ca: string, servername: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path, ca, servername, rejectUnauthorized: true, timeout: 3000 },
      (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve(`${response.statusCode} ${body.trim()}`));
      },
    );
    req.on("error", (error) => resolve(`error: ${error.message}`));
    req.end();
  });
}

describe("a node's agent as synthesized, with the Consul twin", () => {
  const twin = twinFolder();

  it.each([
    ["one host (bridge)", "as rendered"],
    ["several hosts (a swarm overlay)", "as rendered"],
    ["several hosts (a swarm overlay)", "on the node's address (the rendering before the listener table)"],
  ])(
    "the published HTTPS API with the server's certificate for server.<dc>.<domain>, on %s, Consul listening %s",
    async (shape, listening) => {
      const engineLab = await uniqueLab();
      let input: any = engineLab.input;
      const overlay = shape.startsWith("several");
      if (overlay) {
        input = asLabOverHosts(engineLab);
        await initSwarm();
      }
      try {
        const { lab, cluster } = onEngine(engineLab.topologyFile, input);
        const tlsDir = mkdtempSync(join(tmpdir(), "consul-twin-tls-"));
        const node = lab.publishNode.name;
        const old = listening !== "as rendered";
        const files = agentFiles(lab, node, tlsDir, (agent) => {
          if (old) agent.client_addr = `127.0.0.1 ${lab.node(node).address}`;
        });
        const pod = runPod(cluster, lab, node, files, twin);
        expect(await runningOrLogs(pod.agent)).toBe("running");
        const ca = readFileSync(join(tlsDir, "ca.pem"), "utf8");
        const port = lab.topology.publish.httpPort;
        if (old) {
          // What a lab over several hosts deployed before this round got: a published API that answers nothing.
          expect(await httpsGet(port, ca, lab.serverTlsName, "/v1/status/leader")).toMatch(
            /^error: (socket hang up|read ECONNRESET|Client network socket disconnected)/,
          );
          return;
        }
        expect(await httpsGet(port, ca, lab.serverTlsName, "/v1/status/leader")).toBe('200 ""');
        // A client that expects another name refuses the certificate: the server's carries exactly the lab's.
        expect(await httpsGet(port, ca, "server.dc9.consul", "/v1/status/leader")).toMatch(
          /^error: Hostname\/IP does not match certificate's altnames/,
        );
      } finally {
        removeLab(engineLab.name);
        if (overlay) docker(["swarm", "leave", "--force"]);
      }
    },
  );

  it("stops at start on a config key Consul 1.20 does not know, in Consul's words", async () => {
    const engineLab = await uniqueLab();
    try {
      const { lab, cluster } = onEngine(engineLab.topologyFile, engineLab.input);
      const files = agentFiles(lab, "dev1004", mkdtempSync(join(tmpdir(), "consul-twin-tls-")), (agent) => {
        agent.ports.grpc_tsl = 8503;
      });
      const pod = runPod(cluster, lab, "dev1004", files, twin);
      const seen = await settle(pod.agent);
      expect(seen.running).toBe(false);
      expect(seen.logs).toContain("invalid config key ports.grpc_tsl");
    } finally {
      removeLab(engineLab.name);
    }
  });

  it("stops at start when another process of the pod holds one of its ports", async () => {
    const engineLab = await uniqueLab();
    try {
      const { lab, cluster } = onEngine(engineLab.topologyFile, engineLab.input);
      const files = agentFiles(lab, "dev1004", mkdtempSync(join(tmpdir(), "consul-twin-tls-")));
      const pod = runPod(cluster, lab, "dev1004", files, twin);
      expect(await runningOrLogs(pod.agent)).toBe("running");
      // A second agent in the same pod: every socket it needs is taken, and it stops as Consul would.
      dockerOk([
        "run",
        "--detach",
        "--name",
        `${engineLab.name}-dev1004-second`,
        "--network",
        `container:${pod.namespace}`,
        "--volume",
        `${twin}:/consul-twin:ro`,
        "--volume",
        `${files}/consul/config:/consul/config:ro`,
        "--entrypoint",
        "/consul-twin/consul",
        TEST_IMAGE,
        "agent",
        "-config-dir=/consul/config",
      ]);
      const second = await settle(`${engineLab.name}-dev1004-second`);
      expect(second.running).toBe(false);
      expect(second.logs).toMatch(
        /Failed to start listener: listen tcp 127\.0\.0\.1:8500: bind: address already in use/,
      );
    } finally {
      removeLab(engineLab.name);
    }
  });
});
