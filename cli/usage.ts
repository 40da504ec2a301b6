/**
 * Every command of the lab's command line with its options: the one table that both `--help` and the refusal of an
 * unknown option are made from, so the two cannot disagree.
 */

export interface CommandOption {
  readonly flag: string;
  /** The value the option takes (`--out FILE`), if any. */
  readonly value?: string;
  readonly says: string;
}

export interface CommandSpec {
  readonly summary: string;
  /** The options it takes; "passed on" hands every argument to another program unread. */
  readonly options: readonly CommandOption[] | "passed on";
}

export const COMMAND_SPECS = {
  synth: { summary: "write cdktf.out/: both stacks and, under rendered/, every file a node receives", options: [] },
  doctor: { summary: "check that this machine and its Docker engines are ready for a deploy", options: [] },
  diff: { summary: "plan every stack in dependency order, with a summary per stack; changes nothing", options: [] },
  deploy: {
    summary: "run the doctor, build the images, apply every stack in order, write outputs.json",
    options: [{ flag: "--skip-doctor", says: "do not run the doctor first" }],
  },
  destroy: {
    summary: "destroy every stack in reverse order, after asking",
    options: [{ flag: "--auto-approve", says: "do not ask (for scripts)" }],
  },
  repair: {
    summary: "make every node whole again (its namespace and the containers joined to it running together)",
    options: [],
  },
  cdktf: { summary: "the cdktf CLI itself, as `npx cdktf ARGS` (`cdktf diff consul`)", options: "passed on" },
  topology: {
    summary: "print the effective topology as JSON, every default written in (run it with npm run --silent)",
    options: [
      { flag: "--api", says: "print how this machine reaches the lab's API instead: its URL, then its CA file" },
    ],
  },
  secrets: {
    summary: "create the secrets file once (an existing one is checked, never replaced), and the TLS material",
    options: [],
  },
  diagram: {
    summary: "draw the effective topology as an SVG (topology.svg beside outputs.json)",
    options: [{ flag: "--out", value: "FILE", says: "write the SVG to FILE instead" }],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMAND_SPECS;

export const COMMAND_NAMES = Object.keys(COMMAND_SPECS) as CommandName[];

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_SPECS, name);
}

const HELP_FLAGS = ["--help", "-h"];

/** An option as the usage and the refusals write it: `--out FILE`. */
const shown = (option: CommandOption) => (option.value ? `${option.flag} ${option.value}` : option.flag);

/** What `npm run <command> -- --help` prints. */
export function usageOf(name: CommandName): string {
  const spec: CommandSpec = COMMAND_SPECS[name];
  const lines =
    spec.options === "passed on"
      ? [`usage: npm run ${name} -- ARGS`, `  ${spec.summary}`, "  every argument goes to the cdktf CLI unread"]
      : [
          `usage: npm run ${name}${spec.options.map((option) => ` [-- ${shown(option)}]`).join("")}`,
          `  ${spec.summary}`,
          ...spec.options.map((option) => `  ${shown(option).padEnd(16)} ${option.says}`),
        ];
  lines.push("The topology comes from CONSUL_LAB_TOPOLOGY (a YAML or JSON file; unset, the article's lab).");
  return `${lines.join("\n")}\n`;
}

/** A command line a command cannot take: printed as one line, exit status 2. */
export class UsageError extends Error {}

/**
 * A command's arguments, checked against its table entry: "help" when it was asked for, else each option given with
 * its value (true for a flag). An option it does not take is refused, never ignored: `npm run synth -- --topology x`
 * would otherwise synthesize the default lab without a word.
 */
export function parseCommandLine(name: CommandName, argv: readonly string[]): "help" | Map<string, string | true> {
  const spec: CommandSpec = COMMAND_SPECS[name];
  if (spec.options === "passed on") return new Map();
  const given = new Map<string, string | true>();
  const takes = spec.options.length === 0 ? "no options" : spec.options.map(shown).join(", ");
  const unknown: string[] = [];
  let help = false;
  for (let index = 0; index < argv.length; index++) {
    const option = spec.options.find((candidate) => candidate.flag === argv[index]);
    if (HELP_FLAGS.includes(argv[index])) help = true;
    else if (!option) unknown.push(argv[index]);
    else if (!option.value) given.set(option.flag, true);
    // An option's value is the next argument, whatever it looks like (`--out -h` names a file); never empty.
    else if (index + 1 < argv.length && argv[index + 1] !== "") given.set(option.flag, argv[++index]);
    else throw new UsageError(`${name}: ${option.flag} needs a ${option.value} (see --help)`);
  }
  // Asked for, help answers even beside options the command does not take: it says which it does.
  if (help) return "help";
  if (unknown.length > 0)
    throw new UsageError(
      `${name} does not take ${unknown.map((arg) => `"${arg}"`).join(", ")}; it takes ${takes} ` +
        "(the topology comes from CONSUL_LAB_TOPOLOGY; see --help)",
    );
  return given;
}
