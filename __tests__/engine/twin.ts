/**
 * The twin lab's pieces for the engine tests: the Consul twin (consul-twin/: Go's standard library, built at test
 * time) with its key table, a node's agent files as rendered, and a node's pod (namespace and agent) as synthesized
 * with the twin where the image has `consul`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { renderAgentConfigFiles, TLS_CA_FILE, TLS_SERVER_CERT_FILE, TLS_SERVER_KEY_FILE } from "../../renderers";
import { ensureLabTls } from "../../secrets";
import { type Lab } from "../../topology";
import { labOf, TEST_AGENT_SECRETS } from "../tools/helpers";
import { PROJECT_ROOT } from "../tools/synth";
import {
  createNetwork,
  docker,
  dockerOk,
  goBinary,
  hardeningArgs,
  runNamespace,
  synthesizedCluster,
  TEST_IMAGE,
} from "./engine";

/** The twin's `consul` and the key table it refuses unknown keys from, in one folder mounted at /consul-twin. */
export function twinFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "consul-twin-"));
  copyFileSync(goBinary("consul-twin"), join(dir, "consul"));
  copyFileSync(join(PROJECT_ROOT, "__tests__", "twin", "consul-1.20-config-keys.json"), join(dir, "config-keys.json"));
  return dir;
}

/** The files the agent container receives, as a tree to copy into it: its config dir and its TLS files. */
export function agentFiles(lab: Lab, node: string, tlsDir: string, change: (agent: any) => void = () => {}): string {
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
export function onEngine(
  topologyFile: string,
  input: unknown,
): { lab: Lab; cluster: ReturnType<typeof synthesizedCluster> } {
  const cluster = synthesizedCluster(topologyFile);
  createNetwork(cluster);
  return { lab: labOf(input), cluster };
}

export interface Pod {
  readonly namespace: string;
  readonly agent: string;
}

/** A node's namespace as synthesized, then its agent container with the twin and the node's files; started. */
export function runPod(
  cluster: ReturnType<typeof synthesizedCluster>,
  lab: Lab,
  node: string,
  files: string,
  twin: string,
  on: { env: NodeJS.ProcessEnv; start?: (name: string) => void } = { env: process.env },
): Pod {
  const resources = Object.values<any>(cluster.container);
  const namespace = resources.find((resource) => resource.name === lab.dockerName(node, "net"));
  const agent = resources.find((resource) => resource.name === lab.dockerName(node));
  runNamespace(cluster, namespace, on);
  // The official image's entrypoint runs `consul agent -data-dir=/consul/data -config-dir=/consul/config` for the
  // synthesized command ["agent"]; the twin runs as root (the image's chown and su-exec are not modelled here).
  if (JSON.stringify(agent.command) !== '["agent"]')
    throw new Error(`the twin models the agent's command ["agent"], not ${JSON.stringify(agent.command)}`);
  dockerOk(
    [
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
    ],
    on.env,
  );
  dockerOk(["cp", `${files}/.`, `${agent.name}:/`], on.env);
  dockerOk(["start", agent.name], on.env);
  return { namespace: namespace.name, agent: agent.name };
}

/** Waits until the agent says it runs, or has exited; its state and its logs. */
export async function settle(
  container: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ running: boolean; logs: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const logs = docker(["logs", container], env);
    const text = logs.stdout + logs.stderr;
    const running = dockerOk(["inspect", "--format", "{{.State.Running}}", container], env).trim() === "true";
    if (!running || text.includes("Consul twin agent running")) return { running, logs: text };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${container} neither ran nor exited`);
}

/** "running", or the logs of an agent that stopped, which say why. */
export async function runningOrLogs(container: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const seen = await settle(container, env);
  return seen.running ? "running" : seen.logs;
}

export function httpsGet(port: number, ca: string, servername: string, path: string): Promise<string> {
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

/**
 * Waits, polling every `pollMs`, until `probe` holds; its time in seconds. Throws, naming `what`, after `seconds`.
 */
export async function until(
  what: string,
  seconds: number,
  probe: () => Promise<boolean>,
  pollMs = 1000,
): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return (Date.now() - started) / 1000;
}

/** The rows of a verify report (facts or drill rows) that did not hold. */
export const failedRows = <T extends { ok: boolean }>(rows: T[] = []): T[] => rows.filter((row) => !row.ok);
