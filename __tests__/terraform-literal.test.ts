import { readFileSync } from "node:fs";
import { join } from "node:path";
import { terraformLiteral } from "../constructs";
import { asTerraformReadsIt } from "../constructs/terraform-literal";
import { sharedDefaultRun } from "./tools/synth";

/** Every string value in a JSON document. */
function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsOf);
  return [];
}

describe("literal text in the synthesized JSON", () => {
  it("escapes template sequences, and Terraform reads the original back", () => {
    const script = readFileSync(join(__dirname, "..", "assets", "handlers", "maintenance-flag.sh"), "utf8");
    expect(script).toContain("${MAINTENANCE_FLAG_TOKEN_FILE:-}");
    expect(terraformLiteral(script)).toContain("$${MAINTENANCE_FLAG_TOKEN_FILE:-}");
    expect(asTerraformReadsIt(terraformLiteral(script))).toBe(script);
    expect(terraformLiteral("%{ if x }")).toBe("%%{ if x }");
  });

  it("interpolates only the references the stacks mean to make", () => {
    const run = sharedDefaultRun();
    const strings = Object.entries(run.files)
      .filter(([path]) => path.endsWith("cdk.tf.json"))
      .flatMap(([, text]) => stringsOf(JSON.parse(text)));
    const expressions = strings.flatMap((text) => [...text.matchAll(/(?<!\$)\$\{([^}]*)\}/g)].map((match) => match[1]));
    const intended =
      /^(var\.(gossip_key|management_token|role_tokens\b|tls_ca_cert$|tls_server_(certs|keys)\.[\w-]+$)|docker_[a-z_]+\.[\w-]+\.[\w.[\]]+|terraform_data\.[\w-]+_published-ports_[0-9A-F]{8}$|data\.terraform_remote_state\.|consul_node\.|terraform\.workspace$|jsonencode\(var\.role_tokens\)$|sha256\(jsonencode\(var\.role_tokens\)\)$|each\.(key|value)$|jsondecode\(file\(join\("\/", \[path\.module, "kv\.json"\]\)\)\)$)/;
    expect(expressions.length).toBeGreaterThan(10);
    expect(expressions.filter((expression) => !intended.test(expression))).toEqual([]);
    expect(strings.filter((text) => /(?<!%)%\{/.test(text))).toEqual([]);
  });
});
