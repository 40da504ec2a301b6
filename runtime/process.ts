/** Running the programs the CLI drives (terraform, docker, the app), and where the checkout is. */
import { spawn, SpawnOptions, spawnSync, SpawnSyncOptions } from "node:child_process";
import { constants as osConstants } from "node:os";
import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, STATE_DIR } from "../shared/project-paths";

export { PROJECT_ROOT } from "../shared/project-paths";

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started at all (not on the PATH, say). */
  readonly startError?: string;
}

/** Runs a program to completion and captures what it prints. */
export function capture(command: string, args: readonly string[], options: SpawnSyncOptions = {}): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  return {
    status: result.status ?? 1,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
    startError: result.error ? result.error.message : undefined,
  };
}

/**
 * Runs a program with the user's terminal attached, so its own progress shows as it comes; resolves to its status.
 * Asynchronous, so the CLI notices Ctrl-C while it runs. A terminal's Ctrl-C reaches the program by itself (it is in
 * the same process group); a SIGTERM or SIGHUP sent to the CLI alone is passed on as SIGTERM, so Terraform stops as
 * cleanly as on Ctrl-C.
 */
export async function passThrough(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<number> {
  return (await runAttached(command, args, options, false)).status;
}

/**
 * As passThrough, with the program's stderr also kept (its last 64 KiB), so the caller can tell one failure from
 * another; the user still sees every line as it comes.
 */
export function passThroughKeepingErrors(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<{ status: number; stderr: string }> {
  return runAttached(command, args, options, true);
}

/** What passThrough and passThroughKeepingErrors share; `keepStderr` pipes stderr through and keeps its tail. */
function runAttached(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  keepStderr: boolean,
): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      stdio: "inherit",
      ...options,
      ...(keepStderr ? { stdio: ["inherit", "inherit", "pipe"] as const } : {}),
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderr = (stderr + chunk.toString("utf8")).slice(-64 * 1024);
    });
    const forward = () => child.kill("SIGTERM");
    const forwarded = ["SIGTERM", "SIGHUP"] as const;
    for (const signal of forwarded) process.on(signal, forward);
    const done = () => {
      for (const signal of forwarded) process.off(signal, forward);
    };
    child.once("error", (error) => {
      done();
      reject(new CliError(`cannot run ${command}: ${error.message}`));
    });
    // `close`: after the exit, once every line of a kept stderr has been read.
    child.once("close", (code, signal) => {
      done();
      resolve({ status: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1), stderr });
    });
  });
}

/**
 * Makes state/ (the project's, or `dir`) and its files owner-only: Terraform writes every secret into the state in
 * clear, with the umask of whoever runs it, and a checkout's state/ comes from git as 0755.
 */
export function protectState(dir = join(PROJECT_ROOT, STATE_DIR)): void {
  try {
    // Made here when missing, so Terraform never creates it with the user's umask.
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    for (const file of readdirSync(dir)) if (file.includes(".tfstate")) chmodSync(join(dir, file), 0o600);
  } catch (error) {
    throw new CliError(
      `cannot make ${dir} owner-only (${(error as NodeJS.ErrnoException).code}); it belongs to another user: run as its owner, or chown it`,
    );
  }
}

/** A failure the user can act on: printed as one line, without a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
