/**
 * The first piece of the twin lab: a node's namespace and agent container as synthesized, on the private engine, with
 * the agent's real config dir (agent.json and secrets.json as rendered, the lab CA and the server's certificate) and a
 * Consul stand-in (consul-twin/main.go: Go's standard library, built at test time) where the image has `consul`. The
 * stand-in loads the config as Consul 1.20 does and binds exactly Consul's sockets, so what the synth says is tried on
 * a real engine: the published HTTPS API answers with the server's certificate for `server.<dc>.<domain>`, a key
 * Consul does not know stops the agent, and a port two processes of a pod bind stops it too. What it does not model
 * it refuses. The cluster of six such agents is twin-cluster.test.ts.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asLabOverHosts, docker, dockerOk, initSwarm, removeLab, TEST_IMAGE, uniqueLab } from "./engine";
import { agentFiles, httpsGet, onEngine, runningOrLogs, runPod, settle, twinFolder } from "./twin";

jest.setTimeout(120_000);

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
