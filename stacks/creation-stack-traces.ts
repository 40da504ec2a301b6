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
