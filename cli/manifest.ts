/** The stacks a synth wrote, from cdktf.out/manifest.json, in the order they deploy. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../runtime/process";

export interface SynthesizedStack {
  readonly name: string;
  /** Where Terraform runs for this stack, absolute. */
  readonly workingDirectory: string;
  readonly dependencies: readonly string[];
  readonly annotations: readonly { readonly level: string; readonly message: string }[];
}

/** The stacks in dependency order: every stack after the stacks it depends on, ties in manifest order. */
export function readStacks(outdir: string): SynthesizedStack[] {
  const file = join(outdir, "manifest.json");
  if (!existsSync(file)) throw new CliError(`${file} is missing; the synth did not finish`);
  const manifest = JSON.parse(readFileSync(file, "utf8")) as {
    stacks: Record<
      string,
      { workingDirectory: string; dependencies?: string[]; annotations?: SynthesizedStack["annotations"] }
    >;
  };
  const stacks = Object.entries(manifest.stacks).map(([name, stack]) => ({
    name,
    workingDirectory: join(outdir, stack.workingDirectory),
    dependencies: stack.dependencies ?? [],
    annotations: stack.annotations ?? [],
  }));
  const ordered: SynthesizedStack[] = [];
  const visiting = new Set<string>();
  const visit = (stack: SynthesizedStack) => {
    if (ordered.includes(stack)) return;
    if (visiting.has(stack.name))
      throw new CliError(`stack ${stack.name} depends on itself through ${[...visiting].join(" -> ")}`);
    visiting.add(stack.name);
    for (const dependency of stack.dependencies) {
      const found = stacks.find((candidate) => candidate.name === dependency);
      if (!found) throw new CliError(`stack ${stack.name} depends on ${dependency}, which the synth did not write`);
      visit(found);
    }
    visiting.delete(stack.name);
    ordered.push(stack);
  };
  stacks.forEach(visit);
  return ordered;
}
