/** `npm run verify`'s command line, and the drill's environment variables: all checked before anything is asked. */
import type { DrillOptions } from "./timed-step";
import { DRILL_STATE_FILE } from "./drill-state";

/** A mistake on the command line: printed with the usage, exit 2. */
export class UsageError extends Error {}

export interface VerifyOptions {
  readonly drill: boolean;
  /** Finish an interrupted drill: put back what it changed (.verify-drill.json), then stop. */
  readonly restore: boolean;
  /** From --settle; undefined when not given. */
  readonly settleSeconds?: number;
  readonly drillOptions: DrillOptions;
}

export const USAGE = `usage: npm run verify [-- --drill] [-- --settle SECONDS] [-- --restore]
  --drill            also run the failover drill, timed (stops and starts the lab's own containers)
  --restore          finish a drill that was interrupted: put back what it changed (${DRILL_STATE_FILE}), then wait
                     for the facts to hold again (up to --settle, default 60 s)
  --settle SECONDS   ask a lab that is not right yet again for up to this long (default: 60 s right after a deploy
                     or a restore)
  CONSUL_LAB_DRILL_DEADLINE_SECONDS, CONSUL_LAB_DRILL_WINDOW_SECONDS   the drill's deadline (60) and window (10)`;

/** A number of seconds, as `--settle` or an environment variable gives it: digits, with an optional fraction. */
function secondsFrom(source: string, text: string | undefined, atLeast: "0" | "above 0"): number {
  const rule = atLeast === "0" ? "0 or more" : "above 0";
  if (text === undefined) throw new UsageError(`${source} needs a number of seconds (${rule})`);
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || (atLeast === "above 0" && value === 0))
    throw new UsageError(`${source} takes a number of seconds (${rule}), not "${text}"`);
  return value;
}

/**
 * The command line and, for a drill, its environment variables: all checked before anything is asked or changed.
 * Undefined for --help, whose usage is printed.
 */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): VerifyOptions | undefined {
  let drill = false;
  let restore = false;
  let settleSeconds: number | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--help" || arg === "-h") return undefined;
    if (arg === "--drill") drill = true;
    else if (arg === "--restore") restore = true;
    else if (arg === "--settle") settleSeconds = secondsFrom("--settle", argv[++index], "0");
    else if (arg.startsWith("--settle=")) settleSeconds = secondsFrom("--settle", arg.slice("--settle=".length), "0");
    else
      throw new UsageError(
        `unknown argument "${arg}"; verify takes --drill, --settle SECONDS and --restore (see --help)`,
      );
  }
  if (restore && drill) throw new UsageError("--restore only puts the lab back; run it, then the drill again");
  // Read only for a drill: a plain verify never uses them.
  const envSeconds = (name: string, fallback: number) =>
    !drill || env[name] === undefined || env[name] === "" ? fallback : secondsFrom(name, env[name], "above 0");
  return {
    drill,
    restore,
    settleSeconds,
    drillOptions: {
      deadlineSeconds: envSeconds("CONSUL_LAB_DRILL_DEADLINE_SECONDS", 60),
      windowSeconds: envSeconds("CONSUL_LAB_DRILL_WINDOW_SECONDS", 10),
      pollMs: 100,
    },
  };
}
