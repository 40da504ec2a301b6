/**
 * The lab's command line: `npm run <command>` runs `cli/lab.ts <command>`, which hands it here. One module per command
 * under `commands/`, each a function of one run context (context.ts); their options and `--help` come from one table
 * (usage.ts). `main(argv, env)` runs a command and resolves to its exit status, with no side effect on import.
 *
 * Secrets reach Terraform only through each stack's owner-only variables file (secrets/stack-variables.ts), written
 * from the secrets file before Terraform runs; never on a command line, in an environment or in cdktf.out.
 */
import { DockerCli } from "../runtime/docker-cli";
import { describeEndpoint } from "../runtime/docker-endpoint";
import { CliError, protectState } from "../runtime/process";
import { SecretsError } from "../secrets";
import { DOCKER_ENGINE_VARIABLES } from "../shared/docker-hosts";
import { removeRedirectingVariables } from "../shared/terraform-environment";
import { type Lab, loadLab, TopologyError } from "../topology";
import { cdktfCommand } from "./commands/cdktf";
import { deployCommand } from "./commands/deploy";
import { destroyCommand } from "./commands/destroy";
import { diagramCommand } from "./commands/diagram";
import { diffCommand } from "./commands/diff";
import { doctorCommand } from "./commands/doctor";
import { repairCommand } from "./commands/repair";
import { secretsCommand } from "./commands/secrets";
import { synthCommand } from "./commands/synth";
import { topologyCommand } from "./commands/topology";
import { Interruption, type RunContext } from "./context";
import { type CommandName, isCommandName, parseCommandLine, usageOf, UsageError } from "./usage";

interface CommandRunner {
  readonly run: (ctx: RunContext) => Promise<number>;
  /** It runs Terraform, which decides the umask, the state's modes and Terraform's environment. */
  readonly terraform?: true;
  /**
   * It has steps a signal should stop between (a synth, the doctor's checks, Terraform, a repair): SIGINT, SIGTERM and
   * SIGHUP are caught and reported. A quick command (printing the topology, the secrets, a diagram) just ends.
   */
  readonly stoppable?: true;
}

const COMMANDS: Record<CommandName, CommandRunner> = {
  synth: { run: synthCommand, stoppable: true },
  doctor: { run: doctorCommand, stoppable: true },
  diff: { run: diffCommand, terraform: true, stoppable: true },
  deploy: { run: deployCommand, terraform: true, stoppable: true },
  destroy: { run: destroyCommand, terraform: true, stoppable: true },
  repair: { run: repairCommand, stoppable: true },
  cdktf: { run: cdktfCommand, terraform: true, stoppable: true },
  topology: { run: topologyCommand },
  secrets: { run: secretsCommand },
  diagram: { run: diagramCommand },
};

/**
 * On one host, the Docker provider reads DOCKER_HOST but not the CLI's current context: point both at the same engine.
 * Over several hosts, each provider names its own engine, and the variables it would take as defaults instead
 * (DOCKER_CONTEXT overrides a provider's host, DOCKER_CERT_PATH turns its ssh:// into TLS) are removed.
 */
function pointTerraformAtEngines(lab: Lab, env: NodeJS.ProcessEnv): void {
  if (!lab.multiHost) {
    // DOCKER_HOST when it is set, else the current context's endpoint.
    const endpoint = new DockerCli(env).endpoint();
    if (endpoint.kind === "missing-context")
      throw new CliError(`the Docker ${describeEndpoint(endpoint)}; check DOCKER_CONTEXT`);
    env.DOCKER_HOST = endpoint.url;
    // The provider takes DOCKER_CONTEXT over DOCKER_HOST (the CLI the other way round), and a certificate folder turns
    // its ssh:// into TLS: only the engine the CLI talks to is left.
    delete env.DOCKER_CONTEXT;
    if (!(endpoint.kind === "network" && endpoint.scheme === "tcp")) {
      delete env.DOCKER_CERT_PATH;
      delete env.DOCKER_TLS_VERIFY;
    }
    return;
  }
  for (const name of DOCKER_ENGINE_VARIABLES) delete env[name];
}

/** How a run ended: its exit status, and the signal that stopped it, if one did. */
interface Outcome {
  readonly status: number;
  readonly interrupted?: NodeJS.Signals;
}

async function runCommand(argv: readonly string[], callerEnv: NodeJS.ProcessEnv): Promise<Outcome> {
  const [command, ...args] = argv;
  if (!isCommandName(command)) {
    console.error(`usage: npm run ${Object.keys(COMMANDS).join("|")} [-- --help]`);
    return { status: 2 };
  }
  let options: ReturnType<typeof parseCommandLine>;
  try {
    options = parseCommandLine(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`consul-lab: ${error.message}`);
    return { status: 2 };
  }
  if (options === "help") {
    process.stdout.write(usageOf(command));
    return { status: 0 };
  }
  const { run, terraform, stoppable } = COMMANDS[command];
  const env: NodeJS.ProcessEnv = { ...callerEnv, CHECKPOINT_DISABLE: "1" };
  const interruption = new Interruption();
  // Ctrl-C reaches Terraform too, which stops cleanly; the CLI waits for it, cleans up, and reports the interruption.
  // A closed terminal (SIGHUP) too: Terraform is stopped as on SIGTERM, and the ssh forwards stay until it has.
  const signals = stoppable ? (["SIGINT", "SIGTERM", "SIGHUP"] as const) : [];
  const onSignal = (signal: NodeJS.Signals) => (interruption.signal = signal);
  for (const signal of signals) process.on(signal, onSignal);
  let status: number;
  try {
    if (terraform) {
      // Terraform writes the state, and saved plans, with every secret in clear: only this user may read them.
      process.umask(0o077);
      protectState();
    }
    const lab = loadLab(env);
    if (terraform) {
      pointTerraformAtEngines(lab, env);
      // What would point Terraform or a provider at another cluster, or weaken its checks (the table's `removed`).
      removeRedirectingVariables(env);
    }
    const say = (line: string) => console.log(`consul-lab: ${line}`);
    status = await run({ lab, env, options, args, say, interruption });
  } catch (error) {
    if (error instanceof TopologyError) console.error(error.message);
    else if (error instanceof CliError || error instanceof SecretsError) console.error(`consul-lab: ${error.message}`);
    else throw error;
    status = 1;
  } finally {
    // A signal that arrived during the last step is seen here, before the exit status is decided.
    await new Promise((resolve) => setImmediate(resolve));
    for (const signal of signals) process.off(signal, onSignal);
  }
  return interruption.signal ? interrupted(interruption) : { status };
}

/** What an interrupted run says, and its exit status (128 + the signal's number). */
function interrupted({ signal, terraformRan }: Interruption): Outcome {
  // Only a command that ran Terraform stopped it; a synth or the doctor simply stopped.
  const what = terraformRan ? "Terraform was stopped, and its plan removed" : "nothing after this point was done";
  console.error(`consul-lab: interrupted (${signal}); ${what}`);
  return { status: signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143, interrupted: signal };
}

/** Runs one command line (`deploy --skip-doctor`) and resolves to its exit status. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return (await runCommand(argv, env)).status;
}

/** The program: the process's arguments and environment, its exit status, and a last word on an unexpected error. */
export function runAsProgram(argv: readonly string[]): Promise<void> {
  return runCommand(argv, process.env).then(
    ({ status, interrupted }) => {
      // An interrupted run ends now, whatever still holds the event loop (a prompt, a forward closing).
      if (interrupted) process.exit(status);
      process.exitCode = status;
    },
    (error: Error) => {
      // A failure nobody anticipated still prints one line; the stack is there for a bug report.
      console.error(`consul-lab: unexpected error: ${error.message}`);
      if (process.env.CONSUL_LAB_DEBUG === "1") console.error(error.stack);
      else console.error("consul-lab: run again with CONSUL_LAB_DEBUG=1 for the stack trace");
      process.exitCode = 1;
    },
  );
}
