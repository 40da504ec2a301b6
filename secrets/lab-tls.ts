/**
 * The lab's TLS material ("secure" mode): a certificate authority of its own and one certificate per Consul server,
 * made by openssl on the deploying machine and kept beside the secrets file, owner-only, never in `cdktf.out/`. They
 * reach Terraform the way the other secrets do (secrets/stack-variables.ts). The CA's key never leaves this folder:
 * no agent holds it, and client agents get their certificates from the servers (`auto_encrypt`).
 *
 * Made once, then only read, except a server certificate that no longer fits: a new server, a changed address, a
 * renamed datacenter, or fewer than RENEW_BEFORE_DAYS left. Its node's next deploy carries the new one.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../shared/project-paths";
import { NODE_LOOPBACK, type Lab } from "../topology";
import { contains, intToIpv4, parseCidr, type Subnet } from "../topology/ipv4";
import { SecretsError } from "./secrets-file";

/**
 * Where the TLS material is kept, relative to the project root. Fixed (no variable moves it): each stack's directory
 * links its CA certificate from here for the scripts Terraform runs (stacks/secret-variables.ts).
 */
export const DEFAULT_TLS_DIR = ".secrets/tls";
/** The same, absolute. */
export const TLS_DIR = join(PROJECT_ROOT, DEFAULT_TLS_DIR);

export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";
const serverCertFile = (node: string) => `server-${node}.pem`;
const serverKeyFile = (node: string) => `server-${node}-key.pem`;

/** As `consul tls ca create` and `consul tls cert create` make them: ECDSA P-256, 5 years for the CA, 1 for a server. */
const CA_VALIDITY_DAYS = 1825;
const SERVER_VALIDITY_DAYS = 365;
/** A certificate with fewer days left than this is replaced (a server's) or refused (the CA's). */
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export interface ServerCertificate {
  /** PEM certificate, signed by the lab's CA. */
  readonly cert: string;
  /** PEM private key (PKCS#8). */
  readonly key: string;
}

export interface LabTls {
  /** The lab CA's certificate (PEM): what every agent and every client of the API trusts. */
  readonly caCert: string;
  /** Each server's certificate and key, by node name. */
  readonly servers: Readonly<Record<string, ServerCertificate>>;
}

/** The names a server's certificate carries. */
export interface CertificateNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

/**
 * What a server's certificate must name: `server.<datacenter>.<domain>`, which agents check with
 * `verify_server_hostname` (so a client's certificate cannot serve as a server's), and what `consul tls cert create
 * -server` adds (`localhost`, 127.0.0.1), with the node's lab address and, on the node that publishes the API, the
 * published address the deploying machine dials and the Consul UI's host name.
 */
export function serverCertificateNames(lab: Lab, nodeName: string): CertificateNames {
  const node = lab.node(nodeName);
  const ips = new Set([NODE_LOOPBACK, node.address]);
  const publishes = lab.publishNode.name === nodeName;
  if (publishes) ips.add(lab.publishedHost);
  // The UI's name too, where the load balancers' UI vhost sends the browser (renderers/consul-ui-vhost.ts).
  const dns = [lab.serverTlsName, "localhost", ...(publishes ? [lab.topology.site.consulUiHostname] : [])];
  return { dns, ips: [...ips] };
}

/** A subnet as a name constraint writes it: `IP:10.0.1.0/255.255.255.0`. */
const ipConstraint = (subnet: Subnet) => `IP:${intToIpv4(subnet.network)}/${intToIpv4(2 ** 32 - subnet.size)}`;

/**
 * What the lab's CA may sign, as its name constraints (RFC 5280 4.2.1.10, enforced by Go's crypto/x509 that Consul
 * verifies with, by OpenSSL, and by browsers): the Consul domain (`server.<dc>.<domain>`), localhost, the UI's host
 * name, loopback, the lab's subnet and the published address. A certificate it signs for any other name (a bank's,
 * say) fails verification, so trusting this CA in a browser trusts it for the lab alone.
 */
export function caNameConstraints(lab: Lab): string[] {
  const { consul, network, site } = lab.topology;
  const subnets = [parseCidr("127.0.0.0/8"), parseCidr(network.subnet)];
  if (!subnets.some((subnet) => contains(subnet, lab.publishedHost)))
    subnets.push(parseCidr(`${lab.publishedHost}/32`));
  const names = [...new Set([consul.domain, "localhost", site.consulUiHostname])];
  return [...names.map((name) => `DNS:${name}`), ...subnets.map(ipConstraint)];
}

/** Whether a CA certificate carries name constraints at all (one made before they were added does not). */
function hasNameConstraints(dir: string): boolean {
  try {
    return /Name Constraints/.test(
      execFileSync("openssl", ["x509", "-in", join(dir, CA_CERT_FILE), "-noout", "-ext", "nameConstraints"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    );
  } catch {
    return false;
  }
}

/** Why OpenSSL does not accept a certificate as issued by the CA (its name constraints included); undefined when it does. */
function verifyFailure(dir: string, certPath: string): string | undefined {
  try {
    execFileSync("openssl", ["verify", "-CAfile", join(dir, CA_CERT_FILE), certPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    return /error \d+ at \d+ depth lookup: (.*)/.exec(stderr)?.[1] ?? (stderr.trim() || (error as Error).message);
  }
}

/** A certificate's names, as X509Certificate.subjectAltName lists them, in a comparable order. */
function namesOf(cert: X509Certificate): string {
  return (cert.subjectAltName ?? "").split(", ").filter(Boolean).sort().join(", ");
}

function expectedNames(names: CertificateNames): string {
  return [...names.dns.map((name) => `DNS:${name}`), ...names.ips.map((ip) => `IP Address:${ip}`)].sort().join(", ");
}

function openssl(args: string[], cwd: string): void {
  try {
    // process.env named, not defaulted: the child's PATH is then the one this module sees (a test's, too).
    execFileSync("openssl", args, { cwd, env: process.env, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (failure.code === "ENOENT") {
      throw new SecretsError("openssl is not installed; it makes the lab's TLS certificates (apt-get install openssl)");
    }
    throw new SecretsError(`openssl ${args[0]} failed: ${failure.stderr?.toString().trim() ?? failure.message}`);
  }
}

/** Refuses a folder that is a link, or another user's, and makes it owner-only. */
function privateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = lstatSync(dir);
  if (!stats.isDirectory() || (process.getuid && stats.uid !== process.getuid())) {
    throw new SecretsError(`${dir} is not a directory of this user's; move it away`);
  }
  chmodSync(dir, 0o700);
}

/** Reads a certificate and its key; undefined when either is missing or they do not belong together. */
function readPair(
  dir: string,
  certFile: string,
  keyFile: string,
): { cert: X509Certificate; pem: string; key: string } | undefined {
  const certPath = join(dir, certFile);
  const keyPath = join(dir, keyFile);
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const pem = readFileSync(certPath, "utf8");
    const key = readFileSync(keyPath, "utf8");
    const cert = new X509Certificate(pem);
    return cert.checkPrivateKey(createPrivateKey(key)) ? { cert, pem, key } : undefined;
  } catch {
    return undefined;
  }
}

/** Moves the files made in `work` into `dir`, keys first, each by rename: a reader never sees half a file. */
function install(work: string, dir: string, files: readonly string[]): void {
  for (const file of files) renameSync(join(work, file), join(dir, file));
}

/** openssl's arguments for a new unencrypted ECDSA P-256 key, as `consul tls` makes them. */
export const NEW_P256_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"] as const;

/**
 * Runs `make`, naming on an openssl failure what was being made and the topology fields its names come from: openssl
 * speaks of its own objects, not of the file the user can change.
 */
function making<T>(what: string, fields: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof SecretsError) || !error.message.startsWith("openssl ")) throw error;
    throw new SecretsError(`${error.message} (making ${what}, whose names come from the topology's ${fields})`);
  }
}

/** The topology fields a server certificate's names come from (serverCertificateNames). */
const SERVER_NAME_FIELDS = "datacenter, consul.domain, nodes[].address, publish.address and site.consulUiHostname";
/** The topology fields the CA's subject and name constraints come from (caNameConstraints). */
const CA_NAME_FIELDS = "name, consul.domain, site.consulUiHostname, network.subnet and publish.address";

function createCa(dir: string, lab: Lab, work: string): void {
  making("the lab's CA", CA_NAME_FIELDS, () => createCaFiles(lab, work));
  chmodSync(join(work, CA_KEY_FILE), 0o600);
  install(work, dir, [CA_KEY_FILE, CA_CERT_FILE]);
}

function createCaFiles(lab: Lab, work: string): void {
  openssl(
    [
      "req",
      "-x509",
      "-new",
      ...NEW_P256_KEY,
      "-keyout",
      CA_KEY_FILE,
      "-out",
      CA_CERT_FILE,
      "-days",
      String(CA_VALIDITY_DAYS),
      "-subj",
      `/O=consul-lab/CN=consul-lab ${lab.topology.name} CA`,
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-addext",
      `nameConstraints=critical,${caNameConstraints(lab)
        .map((name) => `permitted;${name}`)
        .join(",")}`,
    ],
    work,
  );
}

function createServerCertificate(dir: string, lab: Lab, nodeName: string, work: string): void {
  const names = serverCertificateNames(lab, nodeName);
  const keyFile = serverKeyFile(nodeName);
  const certFile = serverCertFile(nodeName);
  const extensions = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    // A server both serves (RPC, HTTPS) and dials other servers (Raft, forwarded RPC).
    "extendedKeyUsage=serverAuth,clientAuth",
    `subjectAltName=${[...names.dns.map((name) => `DNS:${name}`), ...names.ips.map((ip) => `IP:${ip}`)].join(",")}`,
  ];
  writeFileSync(join(work, "server.ext"), `${extensions.join("\n")}\n`);
  making(`server ${nodeName}'s certificate`, SERVER_NAME_FIELDS, () => {
    openssl(
      [
        "req",
        "-new",
        ...NEW_P256_KEY,
        "-keyout",
        keyFile,
        "-out",
        "server.csr",
        "-subj",
        `/O=consul-lab/CN=${lab.serverTlsName}`,
      ],
      work,
    );
    chmodSync(join(work, keyFile), 0o600);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        join(dir, CA_CERT_FILE),
        "-CAkey",
        join(dir, CA_KEY_FILE),
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
        "-days",
        String(SERVER_VALIDITY_DAYS),
        "-extfile",
        "server.ext",
        "-out",
        certFile,
      ],
      work,
    );
  });
  // Checked before it replaces anything: a name outside the CA's constraints would fail every TLS handshake.
  const refused = verifyFailure(dir, join(work, certFile));
  if (refused)
    throw new SecretsError(
      `the lab's CA in ${dir} does not accept server ${nodeName}'s certificate (${expectedNames(names)}): ${refused}; ` +
        "the topology names what the CA may not sign (a new subnet, published address or UI host name): " +
        `move ${dir} away and deploy to make a CA for this topology (every agent is then redeployed)`,
    );
  install(work, dir, [keyFile, certFile]);
}

export interface EnsureLabTlsOptions {
  /** The time certificates are judged at (tests move it forward). @default now */
  readonly now?: Date;
  /** Told of each file made. */
  readonly say?: (line: string) => void;
}

/**
 * The lab's TLS material in `dir`: the CA made if there is none, every server's certificate made or replaced when it
 * does not fit the topology (names, CA, key, time left). A CA that is unreadable, half there or expiring is refused,
 * not replaced: a new CA means every agent's next deploy, which the user should decide.
 */
export function ensureLabTls(lab: Lab, dir: string, options: EnsureLabTlsOptions = {}): LabTls {
  const now = options.now ?? new Date();
  const say = options.say ?? (() => {});
  privateDirectory(dir);
  const work = mkdtempSync(join(dir, ".partial-"));
  try {
    const caPresent = [CA_CERT_FILE, CA_KEY_FILE].filter((file) => existsSync(join(dir, file)));
    if (caPresent.length === 0) {
      createCa(dir, lab, work);
      say(`created the lab's CA in ${dir} (its key is owner-only; keep it with the secrets file)`);
    }
    const ca = readPair(dir, CA_CERT_FILE, CA_KEY_FILE);
    const renewBy = new Date(now.getTime() + RENEW_BEFORE_DAYS * DAY_MS);
    if (!ca || !ca.cert.ca) {
      throw new SecretsError(
        `${dir} holds no usable CA (${CA_CERT_FILE} and ${CA_KEY_FILE} must be a CA certificate and its key); ` +
          `restore them from your backup, or move ${dir} away to make a new CA (every agent is then redeployed)`,
      );
    }
    if (new Date(ca.cert.validTo) < renewBy) {
      throw new SecretsError(
        `the lab's CA in ${dir} expires ${ca.cert.validTo}; move ${dir} away and deploy again to make a new one ` +
          "(every agent is then redeployed)",
      );
    }
    if (!hasNameConstraints(dir))
      say(
        `the lab's CA in ${dir} has no name constraints (it was made before they were added), so it could sign any ` +
          `name: to replace it with one that signs the lab's names only, move ${dir} away and deploy (every agent is ` +
          "then redeployed)",
      );
    const servers: Record<string, ServerCertificate> = {};
    for (const server of lab.servers) {
      const wanted = expectedNames(serverCertificateNames(lab, server.name));
      let pair = readPair(dir, serverCertFile(server.name), serverKeyFile(server.name));
      const fits =
        pair !== undefined &&
        pair.cert.checkIssued(ca.cert) &&
        pair.cert.verify(ca.cert.publicKey) &&
        namesOf(pair.cert) === wanted &&
        new Date(pair.cert.validTo) >= renewBy;
      if (!fits) {
        createServerCertificate(dir, lab, server.name, work);
        say(`${pair ? "renewed" : "created"} the TLS certificate of server ${server.name} (${wanted})`);
        pair = readPair(dir, serverCertFile(server.name), serverKeyFile(server.name))!;
      }
      servers[server.name] = { cert: pair!.pem, key: pair!.key };
    }
    return { caCert: ca.pem, servers };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The CA certificate's file, for what talks to the lab's API from this machine (verify, the ops scripts). */
export function labCaFile(dir: string): string {
  return join(dir, CA_CERT_FILE);
}
