/**
 * Every string a topology gives reaches Terraform literally (constructs/terraform-literal.ts): each string field of a
 * topology that uses every section is tried with text that cdktf or Terraform would read as code; the fields that
 * accept it are exactly TERRAFORM_TEXT_FIELDS, and after a synth, real `terraform console` reads each such string back
 * as written: in the JSON, or through the expression the stack reads its data file with.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { KV_DATA_FILE } from "../constructs/consul-objects";
import { TERRAFORM_TEXT_FIELDS } from "../constructs/terraform-literal";
import { problemsOf } from "./tools/helpers";
import { runApp } from "./tools/synth";

jest.setTimeout(120_000);

/** Terraform's interpolation and directive, and cdktf's string and list token markers, between two markers. */
const HOSTILE = "Q7${var.gossip_key}%{ if true }x%{ endif }${TfToken[TOKEN.1]}#{TfToken[TOKEN.2]}Q7";

/** A topology that uses every section: three hosts (one reached over TLS with its certificate folder) and KV. */
function richInput(): any {
  const input = parse(readFileSync(join(__dirname, "..", "examples", "three-hosts.yaml"), "utf8"));
  input.hosts[2] = { name: "lab-c", endpoint: "tcp://lab-c.example.test:2376", certPath: "/home/ops/docker-certs" };
  input.kv = { "web/site/description": "a site", "web/site/owner": "ops" };
  return input;
}

/** Every string leaf of a value, with its path (`hosts.2.certPath`). */
function stringLeaves(value: unknown, path: string[] = []): { path: string[]; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, String(index)]));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  return [];
}

/** A leaf's path as TERRAFORM_TEXT_FIELDS names a field: indices as `[]`, KV paths as `<path>`. */
const fieldOf = (path: string[]) =>
  path[0] === "kv"
    ? "kv.<path>"
    : path
        .map((part) => (/^\d+$/.test(part) ? "[]" : part))
        .join(".")
        .replace(/\.\[\]/g, "[]");

function withValue(input: any, path: string[], value: string): any {
  const copy = structuredClone(input);
  let target = copy;
  for (const part of path.slice(0, -1)) target = target[part];
  target[path.at(-1)!] = value;
  return copy;
}

/** Every string in a JSON document. */
function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsOf);
  return [];
}

/**
 * What Terraform itself reads each string as: locals in a JSON configuration, read by `terraform console` in a folder
 * holding `files`; each local's value is printed as a string (a map or list as its JSON).
 */
function asTerraformReads(strings: string[], files: Record<string, string> = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-tf-console-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const locals = Object.fromEntries(strings.map((text, index) => [`s${index}`, text]));
  writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ locals }));
  // One expression: piped into console, only the last of several lines is printed.
  const encoded = (index: number) => `base64encode(try(tostring(local.s${index}), jsonencode(local.s${index})))`;
  const expression = `join(" ", [${strings.map((_, index) => encoded(index)).join(", ")}])`;
  const printed = execFileSync("terraform", ["console"], {
    cwd: dir,
    input: `${expression}\n`,
    encoding: "utf8",
    env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", TF_IN_AUTOMATION: "1" },
  });
  return JSON.parse(printed.trim())
    .split(" ")
    .map((encoded: string) => Buffer.from(encoded, "base64").toString("utf8"));
}

describe("topology strings reach Terraform literally", () => {
  const input = richInput();

  it("starts from a topology that validates", () => {
    expect(problemsOf(input)).toEqual([]);
  });

  it("accepts code-like text only in the fields that are escaped for Terraform and cdktf", () => {
    const accepting = new Set<string>();
    for (const leaf of stringLeaves(input))
      if (problemsOf(withValue(input, leaf.path, `${leaf.value}${HOSTILE}`)).length === 0)
        accepting.add(fieldOf(leaf.path));
    expect([...accepting].sort()).toEqual(TERRAFORM_TEXT_FIELDS.map((entry) => entry.field).sort());
    // A KV path is a key, not a leaf: its own rule refuses it.
    expect(problemsOf({ ...input, kv: { [`web/${HOSTILE}`]: "x" } })).not.toEqual([]);
  });

  it("synthesizes each such field so that terraform console reads back exactly the text given", () => {
    const certPath = `/home/ops/certs-${HOSTILE}`;
    // Text that already looks escaped must come back as written too.
    // cdktf's number tokens are doubles such as -1.8881545897087626e+289, found in strings too.
    const kvValue =
      "line one\n" +
      HOSTILE +
      ' $${already-escaped} %%{ twice } Tf${""}Token[ 1e5 -1.8881545897087626e+289 -1.888154589708763e+289';
    const hostile = withValue(
      withValue(input, ["hosts", "2", "certPath"], certPath),
      ["kv", "web/site/owner"],
      kvValue,
    );
    expect(problemsOf(hostile)).toEqual([]);
    const file = join(mkdtempSync(join(tmpdir(), "consul-lab-hostile-")), "lab.json");
    writeFileSync(file, JSON.stringify(hostile));
    const run = runApp({ CONSUL_LAB_TOPOLOGY: file });
    expect(run.stderr).not.toMatch(/TfToken|Error/);
    expect(run.status).toBe(0);
    const found = Object.entries(run.files)
      .filter(([path]) => path.endsWith("cdk.tf.json"))
      .flatMap(([, text]) => stringsOf(JSON.parse(text)))
      .filter((text) => text.includes("Q7"));
    // Each field arrives (cdktf substituted nothing away), and Terraform reads every string that carries one as
    // holding it exactly as written: the folder in the provider block and in the environment of the image builds on
    // that host (inside its JSON).
    const read = asTerraformReads(found);
    expect(read).toContain(certPath);
    expect(read.filter((text) => !text.includes(certPath))).toEqual([]);
    expect(read.filter((text) => text.includes(certPath)).length).toBeGreaterThan(1);
    // The KV value is in no JSON string: the stack reads it from its data file, with the expression it synthesized.
    const consulStack = JSON.parse(run.files["stacks/consul/cdk.tf.json"]);
    const kvBlocks: any = Object.values(consulStack.resource.consul_keys).find((keys: any) => keys.dynamic);
    const [kvRead] = asTerraformReads([kvBlocks.dynamic.key.for_each], {
      [KV_DATA_FILE]: run.files[`stacks/consul/${KV_DATA_FILE}`],
    });
    expect(JSON.parse(kvRead)).toEqual(hostile.kv);
    expect(JSON.parse(kvRead)["web/site/owner"]).toBe(kvValue);
  });
});
