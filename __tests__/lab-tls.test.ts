import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLabTls, NEW_P256_KEY, SecretsError, serverCertificateNames } from "../secrets";
import { articleInput, labOf } from "./tools/helpers";

const freshDir = () => join(mkdtempSync(join(tmpdir(), "consul-lab-tls-")), "tls");
const DAY_MS = 24 * 3600 * 1000;

/** What openssl itself says of a certificate: its verification against the CA for a purpose, and its names. */
function opensslVerify(dir: string, certFile: string, purpose: "sslserver" | "sslclient") {
  return spawnSync("openssl", ["verify", "-purpose", purpose, "-CAfile", join(dir, "ca.pem"), join(dir, certFile)], {
    encoding: "utf8",
  });
}
function subjectAltNames(dir: string, certFile: string): string[] {
  const text = execFileSync("openssl", ["x509", "-noout", "-ext", "subjectAltName", "-in", join(dir, certFile)], {
    encoding: "utf8",
  });
  return text
    .split("\n")
    .slice(1)
    .join(",")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean)
    .sort();
}
const filesOf = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((file) => [file, readFileSync(join(dir, file), "utf8")]));

describe("the lab's TLS material", () => {
  const lab = labOf();

  it("gives every server a certificate that openssl verifies against the lab CA, as server and as client", () => {
    const dir = freshDir();
    const tls = ensureLabTls(lab, dir);
    expect(Object.keys(tls.servers)).toEqual(["dev1001", "dev1002", "dev1003"]);
    for (const server of lab.servers) {
      for (const purpose of ["sslserver", "sslclient"] as const) {
        const result = opensslVerify(dir, `server-${server.name}.pem`, purpose);
        expect(`${result.stdout}${result.stderr}`.trim()).toBe(`${join(dir, `server-${server.name}.pem`)}: OK`);
      }
      expect(readFileSync(join(dir, `server-${server.name}.pem`), "utf8")).toBe(tls.servers[server.name].cert);
    }
  });

  it("names server.<dc>.<domain>, localhost, loopback and the node's address, and the published host on its node", () => {
    const input = articleInput();
    input.datacenter = "tokyo";
    (input as any).consul = { domain: "lab" };
    const renamed = labOf(input);
    const dir = freshDir();
    ensureLabTls(renamed, dir);
    expect(subjectAltNames(dir, "server-dev1001.pem")).toEqual(
      [
        "DNS:consul.hoge.dev.jp",
        "DNS:localhost",
        "DNS:server.tokyo.lab",
        "IP Address:10.0.1.1",
        "IP Address:127.0.0.1",
      ].sort(),
    );
    expect(subjectAltNames(dir, "server-dev1002.pem")).toContain("IP Address:10.0.1.2");
    expect(serverCertificateNames(renamed, "dev1001").dns).toEqual([
      "server.tokyo.lab",
      "localhost",
      "consul.hoge.dev.jp",
    ]);
    // The UI's name only where the UI vhost sends the browser: the publishing server.
    expect(subjectAltNames(dir, "server-dev1002.pem")).not.toContain("DNS:consul.hoge.dev.jp");
  });

  it("adds a published address other than loopback to the publishing server's certificate only", () => {
    const input = articleInput();
    input.publish = { address: "192.168.77.5", exposeOnNetwork: true, node: "dev1002" };
    const exposed = labOf(input);
    const dir = freshDir();
    ensureLabTls(exposed, dir);
    expect(subjectAltNames(dir, "server-dev1002.pem")).toContain("IP Address:192.168.77.5");
    expect(subjectAltNames(dir, "server-dev1001.pem")).not.toContain("IP Address:192.168.77.5");
  });

  it("makes a CA that signs the lab's names only: a certificate it signs for another name fails verification", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    const constraints = execFileSync(
      "openssl",
      ["x509", "-noout", "-ext", "nameConstraints", "-in", join(dir, "ca.pem")],
      {
        encoding: "utf8",
      },
    );
    expect(constraints).toMatch(/Name Constraints: critical/);
    // What the lab's servers carry verifies; a name outside the lab does not, though the same key signed it.
    const work = mkdtempSync(join(tmpdir(), "consul-lab-foreign-"));
    const sign = (name: string, san: string) => {
      writeFileSync(join(work, `${name}.ext`), `subjectAltName=${san}\n`);
      execFileSync(
        "openssl",
        ["req", "-new", ...NEW_P256_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
        { cwd: work, stdio: "ignore" },
      );
      execFileSync(
        "openssl",
        [
          "x509",
          "-req",
          "-in",
          `${name}.csr`,
          "-CA",
          join(dir, "ca.pem"),
          "-CAkey",
          join(dir, "ca-key.pem"),
          "-set_serial",
          "7",
          "-days",
          "2",
          "-extfile",
          `${name}.ext`,
          "-out",
          `${name}.pem`,
        ],
        { cwd: work, stdio: "ignore" },
      );
      return spawnSync("openssl", ["verify", "-CAfile", join(dir, "ca.pem"), join(work, `${name}.pem`)], {
        encoding: "utf8",
      });
    };
    expect(sign("lab", "DNS:server.dc1.consul,DNS:localhost,IP:127.0.0.1,IP:10.0.1.7").status).toBe(0);
    for (const [name, san] of [
      ["google", "DNS:accounts.google.com"],
      ["address", "IP:192.0.2.10"],
      ["mixed", "DNS:server.dc1.consul,DNS:accounts.google.com"],
    ]) {
      const result = sign(name, san);
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/permitted subtree violation/);
    }
  });

  it("says so of a CA made without name constraints, keeps it, and refuses a server name its CA may not sign", () => {
    const dir = freshDir();
    // A CA as earlier versions made it: no name constraints.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-new",
        ...NEW_P256_KEY,
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "400",
        "-subj",
        "/CN=old",
        "-addext",
        "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      { cwd: dir, stdio: "ignore" },
    );
    const said: string[] = [];
    ensureLabTls(lab, dir, { say: (line) => said.push(line) });
    expect(said).toContainEqual(expect.stringMatching(/has no name constraints .* move .* away and deploy/));
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    // A constrained CA, then a topology whose published address it may not sign.
    const constrained = freshDir();
    ensureLabTls(lab, constrained);
    const input = articleInput();
    input.publish = { ...input.publish, address: "192.0.2.10", exposeOnNetwork: true } as typeof input.publish;
    const before = filesOf(constrained);
    expect(() => ensureLabTls(labOf(input), constrained)).toThrow(
      /does not accept server dev1001's certificate .*permitted subtree violation.*move .* away and deploy to make a CA for this topology/,
    );
    expect(filesOf(constrained)).toEqual(before);
  });

  it("names the topology fields behind what openssl failed to make", () => {
    // An openssl that refuses to make a request, as it does a name it cannot encode.
    const bin = mkdtempSync(join(tmpdir(), "consul-lab-openssl-"));
    writeFileSync(
      join(bin, "openssl"),
      '#!/bin/sh\n[ "$1" = req ] && { echo "problem creating object" >&2; exit 1; }\nexec /usr/bin/openssl "$@"\n',
      { mode: 0o755 },
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      expect(() => ensureLabTls(lab, freshDir())).toThrow(
        "openssl req failed: problem creating object (making the lab's CA, whose names come from the topology's name, consul.domain, site.consulUiHostname, network.subnet and publish.address)",
      );
      // A CA already there: the server certificate's request fails, named by its fields.
      const dir = freshDir();
      process.env.PATH = path;
      ensureLabTls(lab, dir);
      rmSync(join(dir, "server-dev1002.pem"));
      process.env.PATH = `${bin}:${path}`;
      expect(() => ensureLabTls(lab, dir)).toThrow(
        "openssl req failed: problem creating object (making server dev1002's certificate, whose names come from the topology's datacenter, consul.domain, nodes[].address, publish.address and site.consulUiHostname)",
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it("keeps every key owner-only in an owner-only folder, and the CA's key nowhere but there", () => {
    const dir = freshDir();
    const tls = ensureLabTls(lab, dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(dir).filter((name) => name.endsWith("-key.pem"))) {
      expect(statSync(join(dir, file)).mode & 0o077).toBe(0);
    }
    const caKey = readFileSync(join(dir, "ca-key.pem"), "utf8");
    expect(JSON.stringify(tls)).not.toContain(caKey.split("\n")[1]);
    // No work files are left behind.
    expect(readdirSync(dir).sort()).toEqual(
      [
        "ca-key.pem",
        "ca.pem",
        ...lab.servers.flatMap((s) => [`server-${s.name}-key.pem`, `server-${s.name}.pem`]),
      ].sort(),
    );
  });

  it("reads what is there on the next run, byte for byte", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    const before = filesOf(dir);
    const said: string[] = [];
    ensureLabTls(lab, dir, { say: (line) => said.push(line) });
    expect(filesOf(dir)).toEqual(before);
    expect(said).toEqual([]);
  });

  it("replaces only the certificate whose server changed address", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    const before = filesOf(dir);
    const input = articleInput();
    input.nodes[1].address = "10.0.1.22";
    ensureLabTls(labOf(input), dir);
    const after = filesOf(dir);
    expect(after["server-dev1002.pem"]).not.toBe(before["server-dev1002.pem"]);
    expect(subjectAltNames(dir, "server-dev1002.pem")).toContain("IP Address:10.0.1.22");
    for (const file of ["ca.pem", "ca-key.pem", "server-dev1001.pem", "server-dev1003.pem"]) {
      expect(after[file]).toBe(before[file]);
    }
  });

  it("makes certificates for a new server, and renews one with less than 30 days left", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    const before = filesOf(dir);
    const input = articleInput();
    input.nodes[3].role = "server";
    input.nodes[4].role = "server";
    ensureLabTls(labOf(input), dir);
    expect(existsSync(join(dir, "server-dev1004.pem"))).toBe(true);
    expect(opensslVerify(dir, "server-dev1005.pem", "sslserver").status).toBe(0);
    const said: string[] = [];
    ensureLabTls(lab, dir, { now: new Date(Date.now() + 340 * DAY_MS), say: (line) => said.push(line) });
    expect(said.filter((line) => line.startsWith("renewed"))).toHaveLength(3);
    expect(filesOf(dir)["server-dev1001.pem"]).not.toBe(before["server-dev1001.pem"]);
    expect(filesOf(dir)["ca.pem"]).toBe(before["ca.pem"]);
  });

  it("replaces a server certificate that another CA signed, or whose key is not its own", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    const other = freshDir();
    ensureLabTls(lab, other);
    writeFileSync(join(dir, "server-dev1001.pem"), readFileSync(join(other, "server-dev1001.pem")));
    writeFileSync(join(dir, "server-dev1002-key.pem"), readFileSync(join(other, "server-dev1002-key.pem")));
    ensureLabTls(lab, dir);
    for (const server of ["dev1001", "dev1002"]) {
      expect(opensslVerify(dir, `server-${server}.pem`, "sslserver").status).toBe(0);
    }
    const pair = spawnSync("openssl", ["x509", "-noout", "-pubkey", "-in", join(dir, "server-dev1002.pem")], {
      encoding: "utf8",
    }).stdout;
    const fromKey = spawnSync("openssl", ["pkey", "-pubout", "-in", join(dir, "server-dev1002-key.pem")], {
      encoding: "utf8",
    }).stdout;
    expect(pair).toBe(fromKey);
  });

  it("refuses a CA that is half there or about to expire, and writes nothing", () => {
    const dir = freshDir();
    ensureLabTls(lab, dir);
    expect(() => ensureLabTls(lab, dir, { now: new Date(Date.now() + 1800 * DAY_MS) })).toThrow(
      /the lab's CA in .* expires .*; move .* away and deploy again/,
    );
    const half = freshDir();
    ensureLabTls(lab, half);
    writeFileSync(join(half, "ca-key.pem"), "not a key\n");
    const before = filesOf(half);
    expect(() => ensureLabTls(lab, half)).toThrow(SecretsError);
    expect(() => ensureLabTls(lab, half)).toThrow(/holds no usable CA \(ca.pem and ca-key.pem/);
    expect(filesOf(half)).toEqual(before);
  });
});
