import { execFile } from "node:child_process";
import { createServer, Server } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderMaintenanceWatch } from "../renderers";
import { labOf } from "./tools/helpers";

const HANDLER = join(__dirname, "..", "assets", "handlers", "maintenance-flag.sh");
const watch = renderMaintenanceWatch(labOf());
const [, , , KEY, APP_TAG, SORRY_TAG] = watch.args;

/** A loopback stand-in for Consul's KV endpoint that records every write. */
class FakeKv {
  readonly values = new Map<string, string>();
  readonly writes: [string, string][] = [];
  /** When set, requests without this X-Consul-Token are denied, as with ACLs on. */
  requiredToken?: string;
  private server?: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      const key = decodeURIComponent(url.pathname.replace(/^\/v1\/kv\//, ""));
      if (this.requiredToken !== undefined && request.headers["x-consul-token"] !== this.requiredToken) {
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

/** One entry as /v1/health/service/<name> returns it. */
function entry(node: string, tags: string[], ...statuses: string[]) {
  return {
    Node: { Node: node, Address: "10.0.1.9" },
    Service: { ID: tags[0], Service: "test_hoge_dev_jp", Tags: tags, Port: 80 },
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
  });

  const handle = (entries: unknown) =>
    runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], typeof entries === "string" ? entries : JSON.stringify(entries));

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

  it("authorizes its read and write with MAINTENANCE_FLAG_TOKEN", async () => {
    kv.requiredToken = "watch-secret";
    const entries = JSON.stringify([entry("dev1004", ["web"], "passing")]);
    const denied = await runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], entries);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`ERROR: reading ${KEY} returned HTTP 403; flag left unchanged`);
    const allowed = await runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], entries, {
      MAINTENANCE_FLAG_TOKEN: "watch-secret",
    });
    expect(allowed.code).toBe(0);
    expect(kv.writes).toEqual([[KEY, "off"]]);
  });

  it("logs each change and error to MAINTENANCE_FLAG_LOG, which operators read at the default log level", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "consul-lab-flag-log-")), "maintenance-flag.log");
    const passing = JSON.stringify([entry("dev1004", ["web"], "passing")]);
    await runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], passing, { MAINTENANCE_FLAG_LOG: log });
    await runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], passing, { MAINTENANCE_FLAG_LOG: log });
    await runHandler([kv.url, KEY, APP_TAG, SORRY_TAG], "[]", { MAINTENANCE_FLAG_LOG: log });
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
      ["http://127.0.0.1:1", KEY, APP_TAG, SORRY_TAG],
      JSON.stringify([entry("dev1004", ["web"], "passing")]),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ERROR: cannot reach Consul at http://127.0.0.1:1");
  });

  it("prints its usage when called with the wrong arguments", async () => {
    const run = await runHandler([kv.url], "[]");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("usage: maintenance-flag.sh CONSUL_HTTP_URL KEY APP_TAG SORRY_TAG");
  });
});
