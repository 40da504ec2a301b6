import { join } from "node:path";

/** This checkout, absolute: the bundled entry points run from `.build/`, the sources from one folder below the root. */
export const PROJECT_ROOT = join(__dirname, "..");

/**
 * Terraform runs each stack in `cdktf.out/stacks/<stack>`, three levels below the project root. Paths the
 * synthesized JSON gives Terraform (state, assets, deploy-time scripts) are relative to that directory, so no
 * absolute path of this checkout lands in the output.
 */
export const PROJECT_ROOT_FROM_STACK = "../../..";

/** Where stack state lives, relative to the project root: outside `cdktf.out`, which every synth rewrites. */
export const STATE_DIR = "state";

/** A path under the project root, as Terraform reaches it from a stack's working directory. */
export function fromStackDir(projectRelativePath: string): string {
  return `${PROJECT_ROOT_FROM_STACK}/${projectRelativePath}`;
}
