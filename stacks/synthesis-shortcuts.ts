/**
 * Where this project steps outside cdktf's public surface to synthesize faster, all of it in one place. Each shortcut
 * writes the same bytes as stock cdktf (app.test.ts, lean-synthesis.test.ts and creation-stack-traces.test.ts compare
 * both ways), is switched off by one environment variable or stands alone, and has a test that fails if cdktf changes
 * under it. `npm run bench` measures what they save.
 *
 * 1. Lean synthesis (`LabStack` switches it on per stack): cdktf's preparing walk is skipped, and unset arguments are
 *    dropped before the resolver's walks. Off with CONSUL_LAB_STOCK_SYNTHESIS=1.
 * 2. No creation stack traces while building and synthesizing (`synthesizeLab` wraps its work in
 *    withoutCreationStackTraces). Off with CONSUL_LAB_STACK_TRACES=1.
 * 3. cdktf's provider-presence validation, imported from `cdktf/lib/validations/validate-provider-presence` (not
 *    exported by cdktf's index), run by hand because the app skips cdktf's validations (which would need Terraform
 *    on the PATH). synthesis-shortcuts.test.ts fails if the module moves or stops finding a missing provider.
 * 4. Outside TypeScript: the bundler (scripts/run-ts.mjs) rewrites `cdktf/lib/private/fs.js`, which runs its own file
 *    as a program, so that it still finds itself inside the bundle; run-ts.test.ts zips an archive asset through it.
 */
import { IAspect, TerraformResource, TerraformStack, Tokenization } from "cdktf";
import { ValidateProviderPresence } from "cdktf/lib/validations/validate-provider-presence";
import type { IConstruct } from "constructs";

/**
 * Set to 1 to synthesize exactly as stock cdktf does (see `LabStack`), e.g. to rule this project out when a synth
 * looks wrong.
 */
export const STOCK_SYNTHESIS_ENV = "CONSUL_LAB_STOCK_SYNTHESIS";

/** A copy of a resource's Terraform JSON without the keys whose value is undefined, which cdktf would drop anyway. */
function withoutUnset(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(withoutUnset);
  // Only plain objects: a token or any other class instance is cdktf's to resolve, as it is.
  const prototype = Object.getPrototypeOf(value);
  if ((prototype !== Object.prototype && prototype !== null) || Tokenization.isResolvable(value)) return value;
  const object = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const entry = object[key];
    if (entry !== undefined) copy[key] = withoutUnset(entry);
  }
  return copy;
}

const leanResources = new WeakSet<TerraformResource>();

/** Wraps each resource's `toTerraform` once, so every pass over it sees only the arguments that are set. */
export const OMIT_UNSET_ARGUMENTS: IAspect = {
  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node) || leanResources.has(node)) return;
    leanResources.add(node);
    const toTerraform = node.toTerraform.bind(node);
    node.toTerraform = () => withoutUnset(toTerraform());
  },
};

/**
 * cdktf captures a stack trace for every token and nested block it creates (over fifty thousand in a 600-node lab)
 * only to quote them if synthesis fails. Capturing them (`Error.captureStackTrace` with an unlimited depth) and then
 * formatting them is a large part of a big synth, in time and in memory, so `main.ts` builds and synthesizes with
 * neither: captures are skipped and errors carry their name and message alone. The output is the same bytes (a
 * test compares both). Set CONSUL_LAB_STACK_TRACES=1 to keep full traces while debugging a synth error.
 */
export const STACK_TRACES_ENV = "CONSUL_LAB_STACK_TRACES";

/** Runs `work` (building and synthesizing the app) without capturing or formatting creation stack traces. */
export function withoutCreationStackTraces<T>(work: () => T, env: NodeJS.ProcessEnv = process.env): T {
  if (env[STACK_TRACES_ENV] === "1") return work();
  const previousPrepare = Error.prepareStackTrace;
  const previousCapture = Error.captureStackTrace;
  Error.prepareStackTrace = (error: Error) => (error instanceof Error ? `${error.name}: ${error.message}` : "");
  // cdktf's captureStackTrace asks this for each token; an object left without a stack records no frames.
  Error.captureStackTrace = () => undefined;
  try {
    return work();
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.captureStackTrace = previousCapture;
  }
}

/** The provider of every resource is declared in its stack: cdktf's own check, which `skipValidation` also skips. */
export function missingProviders(stacks: readonly TerraformStack[]): string[] {
  return stacks.flatMap((stack) => new ValidateProviderPresence(stack).validate());
}
