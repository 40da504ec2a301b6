import type { Lab } from "../topology";
import { CliError } from "../runtime/process";

/**
 * Whether a signal asked the run to stop, and whether Terraform ran (for what the interruption says). One per run:
 * the CLI keeps no module state.
 */
export class Interruption {
  signal: NodeJS.Signals | undefined;
  terraformRan = false;

  /** Stops before the next step once Ctrl-C or SIGTERM arrived (after letting a pending signal's listener run). */
  async stopIfInterrupted(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.signal) throw new CliError(`interrupted (${this.signal}); nothing after this point was done`);
  }
}

/** Everything a command runs with. */
export interface RunContext {
  readonly lab: Lab;
  /** The environment the command and the programs it starts see (cleaned for Terraform where it runs Terraform). */
  readonly env: NodeJS.ProcessEnv;
  /** The options given, as the command's entry in cli/usage.ts reads them (a flag as true). */
  readonly options: ReadonlyMap<string, string | true>;
  /** Every argument after the command, for the one that passes them on (`cdktf`). */
  readonly args: readonly string[];
  /** A progress line: `consul-lab: <line>` on standard output. */
  readonly say: (line: string) => void;
  readonly interruption: Interruption;
}
