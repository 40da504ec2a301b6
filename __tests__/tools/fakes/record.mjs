// What every fake call shares: the log it appends to and the failures it plays on cue.
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * One call of a fake CLI, as its client sent it: the program, its argv, the directory it ran in, its umask, and the
 * environment variables a fake reads (FAKE_* and TF_VAR_*).
 */
/** @typedef {{ program: string, argv: string[], cwd: string, umask: number, env: Record<string, string> }} FakeCall */
/**
 * What the client prints and exits with. `interruptible` asks it to wait, like a long-running command, until a signal
 * (which it reports as `<signal> SIGxxx`) or the end of the wait (then it asks again with FAKE_SLOW cleared).
 */
/** @typedef {{ status: number, stdout: string, stderr: string, interruptible?: boolean }} FakeAnswer */

/**
 * The variables Terraform loads by itself in a directory: `terraform.tfvars.json` and every `*.auto.tfvars.json`,
 * in lexical order, links followed (as Terraform reads them). A file that cannot be read is Terraform's error.
 */
export function autoVariables(dir) {
  if (!existsSync(dir)) return {};
  const files = readdirSync(dir)
    .filter((name) => name === "terraform.tfvars.json" || name.endsWith(".auto.tfvars.json"))
    .sort();
  return Object.assign({}, ...files.map((name) => JSON.parse(readFileSync(join(dir, name), "utf8"))));
}

/**
 * Appends the call to FAKE_LOG (JSON lines): the program, its argv, its cwd, the TF_VAR_* names it saw, for
 * Terraform the variable names its directory's variables files give it, and the DOCKER_* variables it saw.
 */
export function record(call) {
  if (!call.env.FAKE_LOG) return;
  const tfVars = Object.keys(call.env)
    .filter((name) => name.startsWith("TF_VAR_"))
    .sort();
  let fileVars = [];
  try {
    if (call.program === "terraform") fileVars = Object.keys(autoVariables(call.cwd)).sort();
  } catch {
    fileVars = ["<unreadable>"];
  }
  // The Docker variables the call saw, which choose its engine; only when one is set.
  const docker = Object.fromEntries(Object.entries(call.env).filter(([name]) => name.startsWith("DOCKER_")));
  // The other variables the client passes on: Terraform's own and the Consul provider's (names only).
  const environment = Object.keys(call.env)
    .filter((name) => /^(TF_|CONSUL_|TFC_|TERRAFORM_)/.test(name) && !/^(TF_VAR_|CONSUL_LAB_)/.test(name))
    .sort();
  appendFileSync(
    call.env.FAKE_LOG,
    `${JSON.stringify({ program: call.program, argv: call.argv, cwd: call.cwd, tfVars, fileVars, ...(Object.keys(docker).length ? { docker } : {}), ...(environment.length ? { environment } : {}) })}\n`,
    { mode: 0o666 & ~call.umask },
  );
}

/** Whether FAKE_FAIL (comma-separated `program:command[:stack]`) asks this call to fail. */
export function failsOnCue(call, command, stack) {
  return (call.env.FAKE_FAIL ?? "")
    .split(",")
    .some((cue) => cue === `${call.program}:${command}` || cue === `${call.program}:${command}:${stack}`);
}

/** Collects what a fake prints, and answers with it. */
export class Answer {
  stdout = "";
  stderr = "";
  /** console.log */
  out(line) {
    this.stdout += `${line}\n`;
  }
  /** console.error */
  err(line) {
    this.stderr += `${line}\n`;
  }
  /** @returns {FakeAnswer} */
  exit(status, extra = {}) {
    return { status, stdout: this.stdout, stderr: this.stderr, ...extra };
  }
}
