/**
 * The stacks skip cdktf's preparing walk and leave unset arguments out (see stacks/lab-stack.ts): the app must still
 * write exactly what stock cdktf writes, byte for byte, for labs of every shape.
 */
import { App } from "cdktf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedTopology } from "./tools/generated-topology";
import { ClusterStack, ConsulStack, LabStackOptions, withoutCreationStackTraces } from "../stacks";
import { Lab } from "../topology";
import { articleInput, labOf, exampleLab } from "./tools/helpers";
import { filesIn } from "./tools/synth";

/** Everything `app.synth()` writes, by path relative to its output directory, built as main.ts builds it. */
function synthesizedFiles(lab: Lab, synthesis: LabStackOptions["synthesis"]): Record<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), `consul-lab-${synthesis}-`));
  try {
    withoutCreationStackTraces(() => {
      const app = new App({ outdir, skipValidation: true });
      const cluster = new ClusterStack(app, "cluster", { lab, synthesis });
      new ConsulStack(app, "consul", { lab, cluster, synthesis });
      app.synth();
    }, {});
    return filesIn(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const LABS: Record<string, () => Lab> = {
  "the article's lab": () => labOf(),
  'the article\'s lab with security "none"': () => labOf({ ...articleInput(), security: "none" }),
  "examples/shop-lab.yaml": () => exampleLab("shop-lab.yaml"),
  "examples/three-hosts.yaml": () => exampleLab("three-hosts.yaml"),
  "a generated 60-node lab": () => labOf(generatedTopology(60)),
};

describe.each(Object.entries(LABS))("lean synthesis of %s", (_name, lab) => {
  it("writes the same files, byte for byte, as cdktf's stock synthesis", () => {
    const lean = synthesizedFiles(lab(), "lean");
    const stock = synthesizedFiles(lab(), "stock");
    expect(Object.keys(lean).sort()).toEqual(Object.keys(stock).sort());
    expect(Object.keys(lean)).toContain("stacks/cluster/cdk.tf.json");
    for (const [path, text] of Object.entries(stock)) expect({ path, text: lean[path] }).toEqual({ path, text });
  });
});
