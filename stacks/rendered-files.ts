/**
 * Every file the cluster stack uploads into a container, written out as the plain file it becomes on its node:
 * `cdktf.out/rendered/<node>/<path in the container>` (agent.json, nginx and consul-template configuration and
 * templates, dnsmasq's configuration, the watch handler...). In the stack's JSON each is one escaped string; here a
 * review of a topology change reads as a diff of real lines. They are taken from the synthesized JSON itself, so
 * they are exactly what Terraform uploads: Terraform's escapes (`$${`, `%%{`) undone, and a secret only ever as the
 * `${var...}` reference the stack holds, never a value.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { asTerraformReadsIt } from "../constructs/terraform-literal";
import { NODE_LABEL } from "../shared/labels";

/** Where the rendered files go, under the synth's output directory. */
export const RENDERED_DIR = "rendered";

interface SynthesizedContainer {
  readonly labels?: readonly { readonly label: string; readonly value: string }[];
  readonly upload?: readonly { readonly file: string; readonly content?: string }[];
}

/** Writes `rendered/<node>/<file>` for every upload of the cluster stack synthesized into `outdir`. */
export function writeRenderedFiles(outdir: string, stack = "cluster"): void {
  // A node removed from the topology leaves no file behind to show up in a review's diff.
  rmSync(join(outdir, RENDERED_DIR), { recursive: true, force: true });
  const json = JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as {
    resource?: { docker_container?: Record<string, SynthesizedContainer> };
  };
  for (const container of Object.values(json.resource?.docker_container ?? {})) {
    const node = container.labels?.find((label) => label.label === NODE_LABEL)?.value;
    if (!node) continue;
    for (const upload of container.upload ?? []) {
      if (upload.content === undefined) continue;
      const target = join(outdir, RENDERED_DIR, node, upload.file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, asTerraformReadsIt(upload.content));
    }
  }
}
