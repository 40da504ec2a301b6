// Appends one invocation to FAKE_LOG (JSON lines): the program, its argv, its cwd and the TF_VAR_* names it saw.
import { appendFileSync } from "node:fs";
import process from "node:process";

export function record(program) {
  if (!process.env.FAKE_LOG) return;
  const tfVars = Object.keys(process.env)
    .filter((name) => name.startsWith("TF_VAR_"))
    .sort();
  appendFileSync(
    process.env.FAKE_LOG,
    `${JSON.stringify({ program, argv: process.argv.slice(2), cwd: process.cwd(), tfVars })}\n`,
  );
}

/** Whether FAKE_FAIL (comma-separated `program:command[:stack]`) asks this call to fail. */
export function failsOnCue(program, command, stack) {
  return (process.env.FAKE_FAIL ?? "")
    .split(",")
    .some((cue) => cue === `${program}:${command}` || cue === `${program}:${command}:${stack}`);
}
