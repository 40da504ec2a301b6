/** Running the programs the CLI drives (terraform, docker, the app), and where the checkout is. */
import { spawnSync, SpawnSyncOptions } from "node:child_process";
import { join } from "node:path";

/** The project root: the bundled CLI runs from `.build/`, the sources from `cli/`, both one level below it. */
export const PROJECT_ROOT = join(__dirname, "..");

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

/** Runs a program with the user's terminal attached, so its own progress shows as it comes; returns its status. */
export function passThrough(command: string, args: readonly string[], options: SpawnSyncOptions = {}): number {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.error) throw new CliError(`cannot run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

/** A failure the user can act on: printed as one line, without a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
