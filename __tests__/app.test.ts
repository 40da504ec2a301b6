import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { articleInput } from "./tools/helpers";
import { PROJECT_ROOT, runApp, sharedDefaultRun } from "./tools/synth";

describe("the app (main.ts)", () => {
  const first = sharedDefaultRun();

  it("synthesizes the cluster and Consul stacks", () => {
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    // Beside the stacks, the rendered files (rendered-files.test.ts reads them).
    expect(
      Object.keys(first.files)
        .filter((path) => !path.startsWith("rendered/"))
        .sort(),
    ).toEqual([
      "manifest.json",
      // The ACL plan, too large for a provisioner's environment in a large lab, beside the JSON.
      "stacks/cluster/acl-plan.json",
      "stacks/cluster/cdk.tf.json",
      // No link into .secrets/ here: this run writes outside the project's cdktf.out, where a relative link would
      // point anywhere (cli.test.ts and cdktf-cli.test.ts check the links of the project's own synth).
      "stacks/consul/cdk.tf.json",
      // The Terraform-owned KV, read with jsondecode(file()): data, never a template, of any size.
      "stacks/consul/kv.json",
    ]);
  });

  it.each(["cluster", "consul"])("matches the reviewed snapshot of the %s stack", (stack) => {
    expect(first.files[`stacks/${stack}/cdk.tf.json`]).toMatchSnapshot();
  });

  it("matches the reviewed snapshot of the files beside the stacks", () => {
    const beside = Object.entries(first.files).filter(
      ([path]) => !/(^manifest|cdk\.tf)\.json$/.test(path.split("/").pop()!),
    );
    expect(Object.fromEntries(beside)).toMatchSnapshot();
  });

  it("synthesizes the same bytes on a machine without Terraform", () => {
    const run = runApp({ PATH: "/nonexistent" });
    expect(run.stderr).toBe("");
    expect(run.files).toEqual(first.files);
  });

  it("writes byte-identical output on every run", () => {
    expect(runApp().files).toEqual(first.files);
  });

  it("writes the same bytes with cdktf's creation stack traces captured (CONSUL_LAB_STACK_TRACES=1)", () => {
    expect(runApp({ CONSUL_LAB_STACK_TRACES: "1" }).files).toEqual(first.files);
  });

  it("writes no absolute path, user or timestamp", () => {
    const text = Object.values(first.files).join("\n");
    expect(text).not.toContain(PROJECT_ROOT);
    expect(text).not.toContain(first.outdir);
    expect(text).not.toMatch(/\/(root|home|tmp|Users)\//);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it.each(["cluster", "consul"])("keeps the %s stack's state outside cdktf.out, by a relative path", (name) => {
    const stack = JSON.parse(first.files[`stacks/${name}/cdk.tf.json`]);
    expect(stack.terraform.backend).toEqual({ local: { path: `../../../state/${name}.tfstate` } });
  });

  it("fails on an invalid topology, names every problem, and writes nothing", () => {
    const input = articleInput();
    input.nodes[4].name = "dev1004";
    input.services[1].tag = "lb";
    const file = join(first.outdir, "..", `bad-topology-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(input));
    const run = runApp({ CONSUL_LAB_TOPOLOGY: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`CONSUL_LAB_TOPOLOGY file ${file} is not a valid topology`);
    expect(run.stderr).toContain("services[1].tag: unknown field");
    expect(run.files).toEqual({});
  });
});
