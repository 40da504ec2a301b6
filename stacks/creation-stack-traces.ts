/**
 * cdktf records a formatted stack trace for every token and nested block it creates (over fifty thousand in a
 * 600-node lab) only to quote them if synthesis fails. Formatting them is the largest cost of a big synth, in time
 * and in memory, so `main.ts` builds and synthesizes with errors carrying their message alone. Set
 * CONSUL_LAB_STACK_TRACES=1 to keep full traces while debugging a synth error.
 */
export const STACK_TRACES_ENV = "CONSUL_LAB_STACK_TRACES";

export function withoutCreationStackTraces<T>(work: () => T, env: NodeJS.ProcessEnv = process.env): T {
  if (env[STACK_TRACES_ENV] === "1") return work();
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (error: Error) => (error instanceof Error ? `${error.name}: ${error.message}` : "");
  try {
    return work();
  } finally {
    Error.prepareStackTrace = previous;
  }
}
