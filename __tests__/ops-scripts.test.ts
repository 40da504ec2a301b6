import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createSecrets, ensureLabTls } from "../secrets";
import { articleInput, labOf } from "./tools/helpers";

const ROOT = join(__dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "consul-lab-ops-"));
/** The lab's TLS material for the HTTPS stand-ins: the article's lab, whose first server publishes the API. */
const tlsDir = join(dir, "tls");
const labTls = ensureLabTls(labOf(), tlsDir);

/** A loopback stand-in for Consul's /v1/snapshot endpoint that records each request; HTTPS with a server's certificate. */
class FakeSnapshotApi {
  readonly requests: { method: string; token: string; body: Buffer }[] = [];
  private server?: Server;
  address = "";

  constructor(private readonly tls?: { cert: string; key: string }) {}

  /** The URL the scripts are given. */
  get url(): string {
    return `${this.tls ? "https" : "http"}://${this.address}`;
  }

  async start(): Promise<void> {
    const serve = (request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        this.requests.push({
          method: request.method ?? "",
          token: String(request.headers["x-consul-token"] ?? ""),
          body: Buffer.concat(chunks),
        });
        response.end(request.method === "GET" ? gzipSync("raft state") : "");
      });
    };
    this.server = this.tls ? createHttpsServer(this.tls, serve) : createServer(serve);
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.address = `127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      "bash",
      [join(ROOT, "scripts", "ops", script), ...args],
      {
        env: {
          ...process.env,
          CONSUL_LAB_HTTP_TOKEN: "",
          CONSUL_LAB_SECRETS_FILE: join(dir, "no-secrets.json"),
          CONSUL_LAB_TOPOLOGY: "",
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("npm run backup / restore", () => {
  const api = new FakeSnapshotApi();
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => (api.requests.length = 0));

  it("saves a snapshot under a timestamped name", async () => {
    const backups = join(dir, "backups");
    const result = await run("backup.sh", [], { CONSUL_LAB_HTTP_ADDR: api.url, CONSUL_LAB_BACKUP_DIR: backups });
    expect(result.code).toBe(0);
    const files = readdirSync(backups);
    expect(files).toEqual([expect.stringMatching(/^consul-\d{8}T\d{6}Z\.snap$/)]);
    // A snapshot holds every ACL token: owner-only, in an owner-only folder.
    expect(statSync(join(backups, files[0])).mode & 0o777).toBe(0o600);
    expect(statSync(backups).mode & 0o777).toBe(0o700);
    expect(result.stdout).toContain(`backup: taking a snapshot from http://${api.address}`);
    expect(readFileSync(join(backups, files[0]))).toEqual(gzipSync("raft state"));
    expect(result.stdout).toContain(`backup: saved ${backups}/${files[0]}`);
  });

  it("writes nothing when Consul cannot be reached", async () => {
    const backups = join(dir, "unreachable");
    const result = await run("backup.sh", [], {
      CONSUL_LAB_HTTP_ADDR: "http://127.0.0.1:1",
      CONSUL_LAB_BACKUP_DIR: backups,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("backup: could not take a snapshot from http://127.0.0.1:1; nothing was written");
    expect(readdirSync(backups)).toEqual([]);
  });

  it("restores a snapshot file", async () => {
    const file = join(dir, "good.snap");
    writeFileSync(file, gzipSync("raft state"));
    const result = await run("restore.sh", [file, "--yes"], { CONSUL_LAB_HTTP_ADDR: api.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `restore: this replaces the whole state (KV, catalog, ACLs) of the Consul cluster at http://${api.address} with ${file}`,
    );
    expect(api.requests).toEqual([{ method: "PUT", token: "", body: gzipSync("raft state") }]);
  });

  it("asks before it replaces anything, and refuses without a terminal unless --yes", async () => {
    const file = join(dir, "asked.snap");
    writeFileSync(file, gzipSync("raft state"));
    const result = await run("restore.sh", [file], { CONSUL_LAB_HTTP_ADDR: api.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("restore asks before it replaces anything; run it in a terminal, or pass --yes");
    expect(api.requests).toEqual([]);
  });

  it("never sends the lab's token to the cluster a shell's CONSUL_HTTP_ADDR names, and reads the lab's own address", async () => {
    const secretsFile = join(dir, "lab-secrets.json");
    const secrets = createSecrets(secretsFile);
    const elsewhere = new FakeSnapshotApi();
    await elsewhere.start();
    const labApi = new FakeSnapshotApi(labTls.servers.dev1001);
    await labApi.start();
    try {
      const topology = join(dir, "lab-on-api.json");
      const [host, port] = labApi.address.split(":");
      writeFileSync(
        topology,
        JSON.stringify({ ...articleInput(), publish: { address: host, httpPort: Number(port) } }),
      );
      const result = await run("backup.sh", [], {
        CONSUL_HTTP_ADDR: elsewhere.address,
        CONSUL_HTTP_TOKEN: "a-real-cluster-token",
        CONSUL_LAB_TOPOLOGY: topology,
        CONSUL_LAB_SECRETS_FILE: secretsFile,
        CONSUL_LAB_BACKUP_DIR: join(dir, "own-address"),
        CONSUL_LAB_CA_FILE: join(tlsDir, "ca.pem"),
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(elsewhere.requests).toEqual([]);
      expect(labApi.requests.map((request) => request.token)).toEqual([secrets.managementToken]);
    } finally {
      await elsewhere.stop();
      await labApi.stop();
    }
  });

  it("speaks HTTPS to a bare host:port, and sends nothing to a server the lab's CA did not sign", async () => {
    const impostorTls = ensureLabTls(labOf(), join(dir, "impostor-tls"));
    const impostor = new FakeSnapshotApi(impostorTls.servers.dev1001);
    const genuine = new FakeSnapshotApi(labTls.servers.dev1001);
    await impostor.start();
    await genuine.start();
    try {
      const env = { CONSUL_LAB_CA_FILE: join(tlsDir, "ca.pem"), CONSUL_LAB_HTTP_TOKEN: "lab-token" };
      const refused = await run("backup.sh", [], {
        ...env,
        CONSUL_LAB_HTTP_ADDR: impostor.address,
        CONSUL_LAB_BACKUP_DIR: join(dir, "impostor"),
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/certificate/i);
      expect(impostor.requests).toEqual([]);
      const accepted = await run("backup.sh", [], {
        ...env,
        CONSUL_LAB_HTTP_ADDR: genuine.address,
        CONSUL_LAB_BACKUP_DIR: join(dir, "genuine"),
      });
      expect(accepted.code).toBe(0);
      expect(genuine.requests.map((request) => request.token)).toEqual(["lab-token"]);
    } finally {
      await impostor.stop();
      await genuine.stop();
    }
  });

  it("sends nothing to an impostor even when the user's ~/.curlrc says insecure", async () => {
    const impostorTls = ensureLabTls(labOf(), join(dir, "impostor-tls-curlrc"));
    const impostor = new FakeSnapshotApi(impostorTls.servers.dev1001);
    await impostor.start();
    const home = join(dir, "home-insecure");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, ".curlrc"), "insecure\n");
    try {
      const refused = await run("backup.sh", [], {
        HOME: home,
        CONSUL_LAB_CA_FILE: join(tlsDir, "ca.pem"),
        CONSUL_LAB_HTTP_TOKEN: "lab-token",
        CONSUL_LAB_HTTP_ADDR: impostor.address,
        CONSUL_LAB_BACKUP_DIR: join(dir, "impostor-curlrc"),
      });
      expect(refused.code).not.toBe(0);
      expect(impostor.requests).toEqual([]);
    } finally {
      await impostor.stop();
    }
  });

  it("speaks plain HTTP to a bare host:port of an open lab, and needs no CA for it", async () => {
    const topology = join(dir, "open-lab.json");
    writeFileSync(topology, JSON.stringify({ ...articleInput(), security: "none" }));
    const result = await run("backup.sh", [], {
      CONSUL_LAB_TOPOLOGY: topology,
      CONSUL_LAB_HTTP_ADDR: api.address,
      CONSUL_LAB_BACKUP_DIR: join(dir, "open-lab"),
      CONSUL_LAB_CA_FILE: join(dir, "no-such-ca.pem"),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
  });

  it("needs no readable topology when CONSUL_LAB_HTTP_ADDR names the scheme and CONSUL_LAB_CA_FILE the CA", async () => {
    const genuine = new FakeSnapshotApi(labTls.servers.dev1001);
    await genuine.start();
    try {
      const result = await run("backup.sh", [], {
        CONSUL_LAB_TOPOLOGY: join(dir, "no-such-topology.json"),
        CONSUL_LAB_HTTP_ADDR: genuine.url,
        CONSUL_LAB_CA_FILE: join(tlsDir, "ca.pem"),
        CONSUL_LAB_HTTP_TOKEN: "t",
        CONSUL_LAB_BACKUP_DIR: join(dir, "no-topology"),
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(genuine.requests).toHaveLength(1);
    } finally {
      await genuine.stop();
    }
  });

  it("authenticates with the management token from the secrets file, or CONSUL_LAB_HTTP_TOKEN", async () => {
    const secretsFile = join(dir, "consul-lab.json");
    const secrets = createSecrets(secretsFile);
    const backups = join(dir, "with-token");
    await run("backup.sh", [], {
      CONSUL_LAB_HTTP_ADDR: api.url,
      CONSUL_LAB_BACKUP_DIR: backups,
      CONSUL_LAB_SECRETS_FILE: secretsFile,
    });
    await run("backup.sh", [], {
      CONSUL_LAB_HTTP_ADDR: api.url,
      CONSUL_LAB_BACKUP_DIR: backups,
      CONSUL_LAB_HTTP_TOKEN: "explicit",
    });
    expect(api.requests.map((request) => request.token)).toEqual([secrets.managementToken, "explicit"]);
  });

  it.each([
    ["backup.sh", "usage: npm run backup"],
    ["restore.sh", "usage: npm run restore FILE [--yes]"],
  ])("%s answers --help with its usage on stdout, and asks nothing", async (script, usage) => {
    const result = await run(script, ["--help"], { CONSUL_LAB_HTTP_ADDR: api.url, CONSUL_LAB_BACKUP_DIR: dir });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout.startsWith(usage)).toBe(true);
    expect(api.requests).toEqual([]);
  });

  it("prints its usage without a file", async () => {
    const result = await run("restore.sh", [], { CONSUL_LAB_HTTP_ADDR: api.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: npm run restore FILE");
    expect(api.requests).toEqual([]);
  });

  const unreadable = join(dir, "secret.snap");
  const cases: [string, () => string, string][] = [
    ["a missing file", () => join(dir, "missing.snap"), "no such file"],
    ["a directory", () => dir, "not a regular file"],
    ["an empty file", () => (writeFileSync(join(dir, "empty.snap"), ""), join(dir, "empty.snap")), "is empty"],
    [
      "a file that is not a snapshot",
      () => (writeFileSync(join(dir, "notes.txt"), "hello"), join(dir, "notes.txt")),
      "is not a Consul snapshot",
    ],
  ];
  if (process.getuid?.() !== 0) {
    // root reads any file, so the permission case only means something for another user.
    cases.push([
      "an unreadable file",
      () => (writeFileSync(unreadable, gzipSync("x")), chmodSync(unreadable, 0), unreadable),
      "cannot read",
    ]);
  }

  it.each(cases)("refuses %s and changes nothing", async (_, makeFile, reason) => {
    const result = await run("restore.sh", [makeFile()], { CONSUL_LAB_HTTP_ADDR: api.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(reason);
    expect(result.stderr).toContain("the cluster was not changed");
    expect(api.requests).toEqual([]);
  });
});
