import { execFile } from "node:child_process";
import { createServer, Server } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderMaintenanceWatch, renderSiteInstances } from "../renderers";
import { labOf } from "./tools/helpers";

const HANDLER = join(__dirname, "..", "assets", "handlers", "maintenance-flag.sh");
const LAB = labOf();
const watch = renderMaintenanceWatch(LAB);
const [, , , KEY, APP_TAG, SORRY_TAG, INSTANCES_KEY] = watch.args;
const ARGS = [KEY, APP_TAG, SORRY_TAG, INSTANCES_KEY];

/** A loopback stand-in for Consul's KV endpoint that records every write. */
class FakeKv {
  readonly values = new Map<string, string>();
  readonly writes: [string, string][] = [];
  /** When set, requests without this X-Consul-Token are denied, as with ACLs on. */
  requiredToken?: string;
  /** Keys every request is denied, as a policy without them does. */
  readonly denied = new Set<string>();
  private server?: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      const key = decodeURIComponent(url.pathname.replace(/^\/v1\/kv\//, ""));
      if (
        this.denied.has(key) ||
        (this.requiredToken !== undefined && request.headers["x-consul-token"] !== this.requiredToken)
      ) {
        response.statusCode = 403;
        response.end("Permission denied");
        return;
      }
      if (request.method === "GET") {
        const value = this.values.get(key);
        response.statusCode = value === undefined ? 404 : 200;
        response.end(value ?? "");
        return;
      }
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        this.values.set(key, body);
        this.writes.push([key, body]);
        response.end("true");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

interface Run {
  code: number;
  stderr: string;
}

function runHandler(args: string[], stdin: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile("sh", [HANDLER, ...args], { env: { ...process.env, ...env } }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
    child.stdin!.on("error", () => undefined); // the handler may exit before reading stdin
    child.stdin!.end(stdin);
  });
}

/** One entry as /v1/health/service/<name> returns it: the node's address from the lab, the service's own empty. */
function entry(node: string, tags: string[], ...statuses: string[]) {
  const address = LAB.nodes.find((candidate) => candidate.name === node)?.address ?? "10.0.1.99";
  return {
    Node: { Node: node, Address: address },
    Service: { ID: tags[0], Service: "test_hoge_dev_jp", Tags: tags, Port: 80, Address: "" },
    Checks: [
      { Node: node, CheckID: "serfHealth", Status: "passing" },
      ...statuses.map((Status) => ({ Node: node, CheckID: "http", Status })),
    ],
  };
}

describe("the maintenance watch handler", () => {
  const kv = new FakeKv();
  beforeAll(() => kv.start());
  afterAll(() => kv.stop());
  beforeEach(() => {
    kv.values.clear();
    kv.writes.length = 0;
    kv.requiredToken = undefined;
    kv.denied.clear();
    // What the consul stack writes: the topology's instances.
    kv.values.set(INSTANCES_KEY, renderSiteInstances(LAB));
  });

  const handle = (entries: unknown) =>
    runHandler([kv.url, ...ARGS], typeof entries === "string" ? entries : JSON.stringify(entries));

  it("sets the flag off while an app server passes", async () => {
    const run = await handle([
      entry("dev1004", ["web"], "passing"),
      entry("dev1005", ["web"], "critical"),
      entry("dev1006", ["sorry"], "passing"),
    ]);
    expect(run.code).toBe(0);
    expect(kv.writes).toEqual([[KEY, "off"]]);
    expect(run.stderr).toContain(`set ${KEY} to off, was <unset> (1 passing app servers)`);
  });

  it("sets the flag on when no app server passes", async () => {
    kv.values.set(KEY, "off");
    await handle([
      entry("dev1004", ["web"], "critical"),
      entry("dev1005", ["web"], "critical"),
      entry("dev1006", ["sorry"], "passing"),
    ]);
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("never counts the sorry server as an app server", async () => {
    await handle([entry("dev1006", ["sorry"], "passing"), entry("dev1007", ["web", "sorry"], "passing")]);
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("counts only app servers the site's instance list names: another token's registration holds nothing off", async () => {
    kv.values.set(KEY, "off");
    const rogue = (node: string, change: (e: ReturnType<typeof entry>) => void) => {
      const registered = entry(node, ["web"], "passing");
      change(registered);
      return registered;
    };
    const run = await handle([
      entry("dev1004", ["web"], "critical"),
      entry("dev1005", ["web"], "critical"),
      // The sorry server's token registering a web instance; an app server's instance moved to another port or
      // address; a node the topology does not have.
      rogue("dev1006", () => undefined),
      rogue("dev1004", (e) => (e.Service.Port = 8080)),
      rogue("dev1005", (e) => (e.Service.Address = "10.0.1.66")),
      rogue("dev1099", () => undefined),
    ]);
    expect(run.code).toBe(0);
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("takes a listed app server's service address over its node's, as consul-template does", async () => {
    const moved = entry("dev1004", ["web"], "passing");
    moved.Node.Address = "10.0.1.66";
    moved.Service.Address = LAB.node("dev1004").address;
    await handle([moved]);
    expect(kv.writes).toEqual([[KEY, "off"]]);
  });

  it("counts no app server before the instance list is written, as the load balancers' template does", async () => {
    kv.values.delete(INSTANCES_KEY);
    await handle([entry("dev1004", ["web"], "passing")]);
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("leaves the flag when the instance list cannot be read or is not a list", async () => {
    kv.values.set(KEY, "off");
    kv.denied.add(INSTANCES_KEY);
    const denied = await handle([entry("dev1004", ["web"], "critical")]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`ERROR: reading ${INSTANCES_KEY} returned HTTP 403; flag left unchanged`);
    kv.denied.clear();
    kv.values.set(INSTANCES_KEY, "[1,2]");
    const junk = await handle([entry("dev1004", ["web"], "critical")]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain(`ERROR: ${INSTANCES_KEY} is not the site's instance list; flag left unchanged`);
    expect(kv.writes).toEqual([]);
  });

  it("counts an app server with a warning check as not passing", async () => {
    await handle([entry("dev1004", ["web"], "warning")]);
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("writes nothing when the value does not change, as when the watch fires at agent start", async () => {
    kv.values.set(KEY, "off");
    const run = await handle([entry("dev1004", ["web"], "passing")]);
    expect(run.code).toBe(0);
    expect(kv.writes).toEqual([]);
    expect(run.stderr).toContain(`${KEY} stays off`);
  });

  it("treats no instance at all as maintenance", async () => {
    await handle("[]");
    await handle("null");
    expect(kv.writes).toEqual([[KEY, "on"]]);
  });

  it("authorizes its reads and write with the token in MAINTENANCE_FLAG_TOKEN_FILE, and never from the environment", async () => {
    kv.requiredToken = "watch-secret";
    const entries = JSON.stringify([entry("dev1004", ["web"], "passing")]);
    // A token in the environment is not read: the agent's environment holds only the file's path.
    const denied = await runHandler([kv.url, ...ARGS], entries, { MAINTENANCE_FLAG_TOKEN: "watch-secret" });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`ERROR: reading ${INSTANCES_KEY} returned HTTP 403; flag left unchanged`);
    const tokenFile = join(mkdtempSync(join(tmpdir(), "consul-lab-flag-token-")), "maintenance-flag.token");
    writeFileSync(tokenFile, "watch-secret");
    const allowed = await runHandler([kv.url, ...ARGS], entries, { MAINTENANCE_FLAG_TOKEN_FILE: tokenFile });
    expect(allowed.code).toBe(0);
    expect(kv.writes).toEqual([[KEY, "off"]]);
    const missing = await runHandler([kv.url, ...ARGS], entries, { MAINTENANCE_FLAG_TOKEN_FILE: `${tokenFile}.gone` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`ERROR: cannot read the token file ${tokenFile}.gone; flag left unchanged`);
  });

  it("logs each change and error to MAINTENANCE_FLAG_LOG, which operators read at the default log level", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "consul-lab-flag-log-")), "maintenance-flag.log");
    const passing = JSON.stringify([entry("dev1004", ["web"], "passing")]);
    await runHandler([kv.url, ...ARGS], passing, { MAINTENANCE_FLAG_LOG: log });
    await runHandler([kv.url, ...ARGS], passing, { MAINTENANCE_FLAG_LOG: log });
    await runHandler([kv.url, ...ARGS], "[]", { MAINTENANCE_FLAG_LOG: log });
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ set ${KEY} to off, was <unset> \\(1 passing app servers\\)$`,
        ),
      ),
      expect.stringMatching(new RegExp(`Z set ${KEY} to on, was off \\(0 passing app servers\\)$`)),
    ]);
  });

  it("ignores an empty stdin", async () => {
    const run = await handle("");
    expect(run.code).toBe(0);
    expect(kv.writes).toEqual([]);
  });

  it("refuses input that is not health entries, and writes nothing", async () => {
    const run = await handle("{not json");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ERROR: stdin is not a list of health entries");
    expect(kv.writes).toEqual([]);
  });

  it("reports an unreachable Consul and writes nothing", async () => {
    const run = await runHandler(
      ["http://127.0.0.1:1", ...ARGS],
      JSON.stringify([entry("dev1004", ["web"], "passing")]),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ERROR: cannot reach Consul at http://127.0.0.1:1");
  });

  it("prints its usage when called with the wrong arguments", async () => {
    const run = await runHandler([kv.url], "[]");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("usage: maintenance-flag.sh CONSUL_HTTP_URL KEY APP_TAG SORRY_TAG INSTANCES_KEY");
  });
});
