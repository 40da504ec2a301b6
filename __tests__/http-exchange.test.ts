/**
 * verify's and the CLI's HTTPS client against an impostor on loopback: a server whose certificate the lab's CA did not
 * sign, or that does not carry the name Consul's servers carry, gets no request, whatever the environment says.
 */
import type { Server } from "node:https";
import { createServer } from "node:https";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLabTls } from "../secrets";
import { httpExchange } from "../runtime/http-exchange";
import { labOf } from "./tools/helpers";
import { PROJECT_ROOT } from "./tools/synth";

const lab = labOf();
const genuine = ensureLabTls(lab, join(mkdtempSync(join(tmpdir(), "consul-lab-genuine-")), "tls"));
const impostor = ensureLabTls(lab, join(mkdtempSync(join(tmpdir(), "consul-lab-impostor-")), "tls"));
const caFile = join(mkdtempSync(join(tmpdir(), "consul-lab-genuine-ca-")), "ca.pem");
writeFileSync(caFile, genuine.caCert);

async function serve(cert: { cert: string; key: string }): Promise<{ server: Server; port: number; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer(cert, (request, response) => {
    asked.push(`${request.url} ${request.headers["x-consul-token"] ?? ""}`);
    response.end('"10.0.1.1:8300"');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, asked };
}

describe("the lab's HTTPS client", () => {
  it.each([
    ["with no setting", {}],
    ["with NODE_TLS_REJECT_UNAUTHORIZED=0", { NODE_TLS_REJECT_UNAUTHORIZED: "0" }],
  ])("sends the token to no impostor %s", async (_what, setting) => {
    const fake = await serve(impostor.servers.dev1001);
    try {
      // A process of its own: Node's TLS reads the variable from the environment the process starts with.
      const probe = await new Promise<string>((resolve) =>
        execFile(
          process.execPath,
          [
            "scripts/run-ts.mjs",
            "__tests__/tools/https-probe.ts",
            `https://127.0.0.1:${fake.port}/`,
            caFile,
            lab.serverTlsName,
          ],
          { cwd: PROJECT_ROOT, env: { ...process.env, ...setting } },
          (_error, stdout) => resolve(stdout.trim()),
        ),
      );
      expect(probe).toMatch(/^error: .*certificate/);
      expect(fake.asked).toEqual([]);
    } finally {
      fake.server.close();
    }
  });

  it("refuses the lab's own certificate when it does not carry the name the client expects", async () => {
    const real = await serve(genuine.servers.dev1001);
    try {
      await expect(
        httpExchange(`https://127.0.0.1:${real.port}/v1/status/leader`, {
          tls: { ca: genuine.caCert, serverName: "server.elsewhere.consul" },
        }),
      ).rejects.toThrow(/does not match|altnames/);
      expect(real.asked).toEqual([]);
      const answer = await httpExchange(`https://127.0.0.1:${real.port}/v1/status/leader`, {
        tls: { ca: genuine.caCert, serverName: lab.serverTlsName },
      });
      expect(answer.status).toBe(200);
    } finally {
      real.server.close();
    }
  });
});
