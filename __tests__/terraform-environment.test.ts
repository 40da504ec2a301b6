/**
 * The environment table (shared/terraform-environment.ts), over every entry: each variable that could point Terraform
 * or a provider elsewhere never reaches Terraform from `npm run diff`, the app `npx cdktf` runs refuses it by name,
 * and what the table keeps reaches Terraform as it was.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  environmentEntryOf,
  redirectingVariables,
  removeRedirectingVariables,
  TERRAFORM_ENVIRONMENT,
} from "../shared/terraform-environment";
import { articleInput } from "./tools/helpers";
import { LabCheckout } from "./tools/lab-checkout";
import { freeLoopbackPort } from "./tools/ports";

jest.setTimeout(120_000);

/** A name each entry stands for: the variable, or for a prefix one name under it. */
const sampleName = (variable: string) => (variable.endsWith("*") ? `${variable.slice(0, -1)}PLAN` : variable);
/** A value of the kind each variable takes, so that a provider that read it would act on it. */
const sampleValue = (name: string) =>
  /VERIFY|SSL$/.test(name) ? "false" : /FILE|PATH|CACERT|CERT$|KEY$|CONFIG/.test(name) ? "/tmp/elsewhere" : "other";

const removed = TERRAFORM_ENVIRONMENT.filter((entry) => entry.rule === "removed").map((e) => sampleName(e.variable));
const kept = TERRAFORM_ENVIRONMENT.filter((entry) => entry.rule === "kept").map((e) => sampleName(e.variable));

describe("the environment table", () => {
  it("names each variable once, with its source at the pinned tag", () => {
    const names = TERRAFORM_ENVIRONMENT.map((entry) => entry.variable);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of TERRAFORM_ENVIRONMENT)
      expect({ entry: entry.variable, cited: /v\d+\.\d+\.\d+ \S+\.go/.test(entry.source) }).toEqual({
        entry: entry.variable,
        cited: true,
      });
  });

  it.each(removed)("finds and removes %s", (name) => {
    const env: NodeJS.ProcessEnv = { [name]: sampleValue(name), PATH: "/bin" };
    expect(redirectingVariables(env)).toEqual([name]);
    removeRedirectingVariables(env);
    expect(env).toEqual({ PATH: "/bin" });
    expect(environmentEntryOf(name)?.rule).toBe("removed");
  });

  it.each(kept)("leaves %s alone", (name) => {
    const env: NodeJS.ProcessEnv = { [name]: "/etc/terraformrc" };
    expect(redirectingVariables(env)).toEqual([]);
    removeRedirectingVariables(env);
    expect(env).toEqual({ [name]: "/etc/terraformrc" });
  });
});

describe("with every variable of the table set in the caller's shell", () => {
  const checkout = new LabCheckout();
  let env: Record<string, string>;

  beforeAll(async () => {
    const input = articleInput();
    input.publish = {
      httpPort: await freeLoopbackPort(),
      dnsPort: await freeLoopbackPort(),
      entryPort: await freeLoopbackPort(),
    };
    const topologyFile = join(checkout.root, "lab.json");
    writeFileSync(topologyFile, JSON.stringify(input));
    env = { CONSUL_LAB_TOPOLOGY: topologyFile, CI: "1" };
    expect((await checkout.script("secrets", [], env)).status).toBe(0);
    for (const name of [...removed, ...kept]) env[name] = sampleValue(name);
  });

  it("npm run diff gives Terraform none of the removed ones, and the kept ones as they were", async () => {
    const result = await checkout.script("diff", [], env);
    expect(result.status).toBe(0);
    const calls = checkout.calls("terraform") as unknown as { environment?: string[]; docker?: object }[];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const seen = [...(call.environment ?? []), ...Object.keys(call.docker ?? {})].sort();
      expect(seen.filter((name) => removed.includes(name))).toEqual([]);
      expect(seen.filter((name) => kept.includes(name))).toEqual([...kept].sort());
    }
  });

  it("the app npx cdktf runs refuses to go on, naming every removed one and what it would do", async () => {
    const result = await checkout.npx(["cdktf", "diff", "cluster"], env);
    expect(result.status).not.toBe(0);
    const output = result.stdout + result.stderr;
    // The cdktf CLI hides TF_VAR_* from its app (the table says so); each stack's variables file wins over them.
    for (const name of removed.filter((variable) => !variable.startsWith("TF_VAR_")))
      expect({ name, named: output.includes(`  ${name}: `) }).toEqual({ name, named: true });
    expect(output).toContain("npm run cdktf -- ...");
    // Each command's calls are its own (LabCheckout clears the log).
    expect(checkout.calls("terraform").filter((call) => call.argv[0] === "plan")).toEqual([]);
  });
});
