import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecrets, ensureSecrets, generateSecrets, readSecrets, roleTokenSecret } from "../secrets";

const dir = mkdtempSync(join(tmpdir(), "consul-lab-secrets-"));
let counter = 0;

/** A secrets file with the given text and mode, and a way to check it was left exactly as it was. */
function secretsFile(text: string, mode = 0o600) {
  counter += 1;
  const file = join(dir, `secrets-${counter}.json`);
  writeFileSync(file, text);
  chmodSync(file, mode);
  const before = { text: readFileSync(file, "utf8"), mode: statSync(file).mode, mtime: statSync(file).mtimeMs };
  return {
    file,
    unchanged: () => ({ text: readFileSync(file, "utf8"), mode: statSync(file).mode, mtime: statSync(file).mtimeMs }),
    before,
  };
}

function failureOf(file: string): string {
  try {
    readSecrets(file);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected readSecrets to fail");
}

describe("the secrets file", () => {
  it("is created once, private to its owner, with well-formed secrets", () => {
    const file = join(dir, "new", "consul-lab.json");
    const { secrets, created } = ensureSecrets(file);
    expect(created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "new")).mode & 0o777).toBe(0o700);
    expect(Buffer.from(secrets.gossipKey, "base64")).toHaveLength(32);
    expect(readSecrets(file)).toEqual(secrets);
    expect(ensureSecrets(file)).toEqual({ secrets, created: false });
  });

  it("is never replaced", () => {
    const existing = secretsFile(JSON.stringify(generateSecrets()));
    expect(() => createSecrets(existing.file)).toThrow("already exists; it is never replaced");
    expect(existing.unchanged()).toEqual(existing.before);
  });

  it("generates different secrets each time", () => {
    const [a, b] = [generateSecrets(), generateSecrets()];
    expect(a.gossipKey).not.toBe(b.gossipKey);
    expect(a.managementToken).not.toBe(b.managementToken);
    expect(a.roleTokenSeed).not.toBe(b.roleTokenSeed);
  });

  it("says how to create a missing file", () => {
    expect(failureOf(join(dir, "absent.json"))).toBe(
      `no secrets file at ${join(dir, "absent.json")}; run \`npm run secrets\` to create it (npm run deploy also creates it the first time)`,
    );
  });

  it("refuses a file other users can read, and says how to fix it", () => {
    const loose = secretsFile(JSON.stringify(generateSecrets()), 0o644);
    expect(failureOf(loose.file)).toBe(
      `${loose.file} can be read by other users (mode 644); run \`chmod 600 ${loose.file}\``,
    );
    expect(loose.unchanged()).toEqual(loose.before);
  });

  it("refuses a file that is not JSON, and leaves it alone", () => {
    const broken = secretsFile("{ gossipKey: ");
    expect(failureOf(broken.file)).toMatch(
      /is not valid JSON .*not replaced automatically: a new gossip key would split a running cluster/,
    );
    expect(ensureSecrets.bind(null, broken.file)).toThrow("is not valid JSON");
    expect(broken.unchanged()).toEqual(broken.before);
  });

  it("names every malformed field", () => {
    const bad = secretsFile(
      JSON.stringify({ gossipKey: "c2hvcnQ=", managementToken: "root", roleTokenSeed: "xyz", extra: 1 }),
    );
    const message = failureOf(bad.file);
    expect(message).toContain("gossipKey must be 32 bytes in base64");
    expect(message).toContain("managementToken must be a lowercase UUID");
    expect(message).toContain("roleTokenSeed must be 64 hexadecimal characters");
    expect(message).toContain("unknown field(s): extra");
    expect(bad.unchanged()).toEqual(bad.before);
  });

  it("derives a stable, distinct, UUID-shaped secret per role", () => {
    const secrets = generateSecrets();
    const first = roleTokenSecret(secrets, "node-dev1001");
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(roleTokenSecret(secrets, "node-dev1001")).toBe(first);
    expect(roleTokenSecret(secrets, "node-dev1002")).not.toBe(first);
    expect(roleTokenSecret(generateSecrets(), "node-dev1001")).not.toBe(first);
  });
});
