/**
 * The lab's command line, behind the npm scripts:
 *
 *   npm run synth      write cdktf.out/ (the app alone, without the cdktf CLI's start-up)
 *   npm run doctor     is this host ready for a deploy?
 *   npm run diff       plan every stack in dependency order, with a summary per stack
 *   npm run deploy     doctor, build the images, apply every stack in order, write outputs.json
 *   npm run destroy    destroy every stack in reverse order (asks first; -- --auto-approve in scripts)
 *   npm run repair     make every node whole after a restart Docker does not heal (see node-pods.ts)
 *   npm run cdktf -- ARGS   the cdktf CLI itself, as `npx cdktf ARGS` (`cdktf diff consul`); a deploy creates the secrets
 *
 * Secrets reach Terraform only through each stack's owner-only variables file (secrets/stack-variables.ts), written
 * from the secrets file before Terraform runs; never on a command line, in an environment or in cdktf.out.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { labAssetImages } from "../shared/asset-images";
import { jsonFileText } from "../shared/generated-file";
import { SecretsError, stackPlanFile } from "../secrets";
import { Lab, loadLab, TopologyError } from "../topology";
import { buildAssetImages, DockerCli } from "../runtime/docker-cli";
import { formatCheck, routeTableOf, runDoctor } from "./doctor";
import { readStacks, SynthesizedStack } from "./manifest";
import { repairLab } from "./repair";
import { describePlan, type PlanSummary } from "./plan-summary";
import { CliError, passThrough, PROJECT_ROOT, protectState } from "../runtime/process";
import { labSecrets, writeSecretVariables } from "./deploy-secrets";
import { labApi } from "../runtime/lab-api";
import { DRILL_STATE_FILE, readDrillState, restoreInterruptedDrill } from "../verify/drill-state";
import { deployedContainerIds } from "../runtime/deployed-containers";
import { LabContainers, leftAloneLine } from "../runtime/lab-containers";
import { labEngines, runsNodes } from "../runtime/lab-engines";
import { DOCKER_ENGINE_VARIABLES } from "../shared/docker-hosts";
import { removeRedirectingVariables } from "../shared/terraform-environment";
import { reachPublishedPorts } from "../runtime/published-ports";
import { StackTerraform, SwarmAttachError } from "./terraform";
import { imageDigests } from "./image-digests";
import { nodeAddresses, serversToRoll, type StackJson, waitForServerBack } from "./rolling-servers";
import { type CommandName, isCommandName, parseCommandLine, usageOf, UsageError } from "./usage";

const OUTDIR = join(PROJECT_ROOT, "cdktf.out");
const OUTPUTS_FILE = join(PROJECT_ROOT, "outputs.json");

const say = (line: string) => console.log(`consul-lab: ${line}`);

/** The signal that interrupted the run, if one did. */
let interrupted: NodeJS.Signals | undefined;
/** Whether this run started Terraform, for what an interruption says. */
let terraformRan = false;

/** Stops before the next step once Ctrl-C or SIGTERM arrived (after letting a pending signal's listener run). */
async function stopIfInterrupted(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (interrupted) throw new CliError(`interrupted (${interrupted}); nothing after this point was done`);
}

interface Invocation {
  readonly lab: Lab;
  readonly env: NodeJS.ProcessEnv;
  readonly options: readonly string[];
}

/**
 * Runs the app (main.ts) into cdktf.out, as `cdktf synth` would (the app never sees a secret, nor a TF_VAR_* the
 * user's shell may hold), and reports the stacks' warnings and errors as the CLI does.
 */
async function synth(env: NodeJS.ProcessEnv): Promise<SynthesizedStack[]> {
  const appEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("TF_VAR_")));
  const status = await passThrough(
    process.execPath,
    [join(PROJECT_ROOT, "scripts", "run-ts.mjs"), join(PROJECT_ROOT, "main.ts")],
    { cwd: PROJECT_ROOT, env: { ...appEnv, CDKTF_OUTDIR: OUTDIR } },
  );
  if (status !== 0) throw new CliError(`synth failed (exit ${status}); see above`);
  const stacks = readStacks(OUTDIR);
  let errors = 0;
  for (const stack of stacks) {
    for (const annotation of stack.annotations) {
      const level = annotation.level.replace("@cdktf/", "");
      if (level === "error") errors++;
      if (level === "error" || level === "warn") console.error(`[${level}] ${stack.name}: ${annotation.message}`);
    }
  }
  if (errors > 0) throw new CliError(`synth reported ${errors} error(s); see above`);
  return stacks;
}

function terraformFor(stack: SynthesizedStack, env: NodeJS.ProcessEnv): StackTerraform {
  terraformRan = true;
  return new StackTerraform(stack, { env, color: Boolean(process.stdout.isTTY) });
}

async function doctor({ lab, env }: Invocation): Promise<boolean> {
  const results = await runDoctor({ lab, env, docker: new DockerCli(env), routeTable: routeTableOf(env) });
  for (const result of results) console.log(formatCheck(result));
  const problems = results.filter((result) => !result.ok).length;
  console.log(problems === 0 ? "doctor: the host is ready" : `doctor: ${problems} problem(s); fix them and run again`);
  return problems === 0;
}

/** Whether the Consul API the `consul` stack configures answers, for a clear word instead of a provider trace. */
async function consulAnswers(lab: Lab, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const answer = await labApi(lab, env).request("GET", "/v1/status/leader", { anonymous: true });
    return answer.status === 200 ? undefined : `HTTP ${answer.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Why a stack cannot be planned yet, or undefined when it can. */
async function notPlannable(invocation: Invocation, stack: SynthesizedStack, stacks: SynthesizedStack[]) {
  for (const dependency of stack.dependencies) {
    const before = stacks.find((candidate) => candidate.name === dependency)!;
    if (terraformFor(before, invocation.env).deployedResourceCount() === 0) {
      return `it configures what the ${dependency} stack runs, and ${dependency} is not deployed yet; \`npm run deploy\` applies both in order`;
    }
  }
  if (stack.dependencies.length > 0) {
    const down = await consulAnswers(invocation.lab, invocation.env);
    if (down)
      return `Consul's API at ${invocation.lab.publishedHttpAddress} does not answer (${down}); is the lab running? (\`npm run doctor\`, \`docker ps\`)`;
  }
  return undefined;
}

/** Synthesizes, then writes each stack's secret variables for Terraform; `createSecrets` on a first deploy. */
async function synthWithSecrets(invocation: Invocation, createSecrets: boolean): Promise<SynthesizedStack[]> {
  const secrets = labSecrets(invocation.lab, invocation.env, createSecrets, say);
  const stacks = await synth(invocation.env);
  writeSecretVariables(invocation.lab, secrets, stacks);
  return stacks;
}

async function diff(invocation: Invocation): Promise<void> {
  const env = invocation.env;
  const stacks = await synthWithSecrets(invocation, false);
  const summary: string[] = [];
  for (const stack of stacks) {
    await stopIfInterrupted();
    const skipped = await notPlannable(invocation, stack, stacks);
    if (skipped) {
      summary.push(`${stack.name}: not planned: ${skipped}`);
      continue;
    }
    say(`planning stack ${stack.name}`);
    const terraform = terraformFor(stack, env);
    const planned = describePlan(await terraform.planOnly());
    const roll = serversToRoll(invocation.lab, stackJson(stack), terraform.plannedChanges);
    summary.push(
      roll.length > 1
        ? `${stack.name}: ${planned}; it replaces the servers ${roll.join(", ")}: npm run deploy replaces them one at a time, each back in the cluster before the next`
        : `${stack.name}: ${planned}`,
    );
  }
  console.log("\ndiff summary:");
  for (const line of summary) console.log(`  ${line}`);
}

/**
 * Runs a command with the lab's published ports reachable here: through SSH forwards when the publish node's engine is
 * remote (runtime/published-ports.ts), closed again however the command ends.
 */
async function withPublishedPorts<T>({ lab, env }: Invocation, run: () => Promise<T>): Promise<T> {
  const ports = await reachPublishedPorts(lab, env);
  if (ports.forwardedFrom) say(`reaching the lab's published ports through ssh forwards from ${ports.forwardedFrom}`);
  try {
    return await run();
  } finally {
    await ports.close();
  }
}

async function deploy(invocation: Invocation): Promise<void> {
  if (!invocation.options.includes("--skip-doctor") && !(await doctor(invocation))) {
    throw new CliError("the host is not ready; nothing was changed");
  }
  await stopIfInterrupted();
  // After the doctor, which checks that the ports the forwards take here are free.
  await withPublishedPorts(invocation, () => deployChecked(invocation));
}

/** How often an apply that failed only on a swarm attach is planned and applied again, and how long apart. */
const SWARM_ATTACH_ATTEMPTS = 3;
const SWARM_ATTACH_RETRY_SECONDS_ENV = "CONSUL_LAB_SWARM_ATTACH_RETRY_SECONDS";

/**
 * Plans and applies a stack; an apply that failed only on a container's first attach to the swarm overlay (a known
 * transient, see SWARM_ATTACH_FAILURE) is planned and applied again after a pause: the failed container is tainted,
 * so the new plan replaces it, by which time Docker has freed its address.
 */
async function applyRetryingSwarmAttach(terraform: StackTerraform, lab: Lab): Promise<PlanSummary> {
  const pauseSeconds = Number(process.env[SWARM_ATTACH_RETRY_SECONDS_ENV] ?? 10);
  for (let attempt = 1; ; attempt++) {
    try {
      return await terraform.planAndApply();
    } catch (error) {
      // Only a lab over several hosts has an overlay to attach to; a Ctrl-C during the apply ends here too.
      if (!(error instanceof SwarmAttachError) || !lab.multiHost || attempt === SWARM_ATTACH_ATTEMPTS) throw error;
      await stopIfInterrupted();
      say(
        `a container's attach to the swarm overlay failed, as it can on a host that joined the swarm moments ago (Docker frees the address after a while); planning and applying again in ${pauseSeconds} s (attempt ${attempt + 1} of ${SWARM_ATTACH_ATTEMPTS})`,
      );
      await new Promise((resolve) => setTimeout(resolve, pauseSeconds * 1000));
      await stopIfInterrupted();
    }
  }
}

/** A synthesized stack's JSON. */
function stackJson(stack: SynthesizedStack): StackJson {
  return JSON.parse(readFileSync(join(stack.workingDirectory, "cdk.tf.json"), "utf8"));
}

/** How long the deploy waits for a replaced server to be back (rolling-servers.ts), and how often it looks. */
const ROLL_GATE_SECONDS_ENV = "CONSUL_LAB_ROLL_GATE_SECONDS";
const ROLL_POLL_MS_ENV = "CONSUL_LAB_ROLL_POLL_MS";

/**
 * When the stack's plan replaces more than one server, replaces them one at a time first, each followed by the gate
 * (rolling-servers.ts). A stack not yet deployed has nothing to replace, and is not planned twice.
 */
async function rollServers(invocation: Invocation, stack: SynthesizedStack, terraform: StackTerraform): Promise<void> {
  const json = stackJson(stack);
  const { multiHost } = invocation.lab;
  const holdsServers = invocation.lab.servers.some((server) => nodeAddresses(json, server.name, multiHost).length > 0);
  if (!holdsServers || terraform.deployedResourceCount() === 0) return;
  await terraform.planOnly();
  const roll = serversToRoll(invocation.lab, json, terraform.plannedChanges);
  if (roll.length <= 1) return;
  say(`the plan replaces the servers ${roll.join(", ")}: replacing them one at a time, so the cluster keeps a leader`);
  const gate = {
    timeoutMs: Number(process.env[ROLL_GATE_SECONDS_ENV] ?? 300) * 1000,
    pollMs: Number(process.env[ROLL_POLL_MS_ENV] ?? 2000),
    progress: say,
  };
  for (const server of roll) {
    await stopIfInterrupted();
    say(`replacing server ${server}`);
    await terraform.planAndApply(false, nodeAddresses(json, server, multiHost));
    await waitForServerBack(labApi(invocation.lab, invocation.env), server, gate);
  }
}

/** The digests the last deploy recorded in outputs.json, if any. */
function previousImageDigests(): Record<string, string> {
  try {
    const recorded = JSON.parse(readFileSync(OUTPUTS_FILE, "utf8")).imageDigests;
    return recorded && typeof recorded === "object" ? recorded : {};
  } catch {
    return {};
  }
}

async function deployChecked(invocation: Invocation): Promise<void> {
  const env = invocation.env;
  const stacks = await synthWithSecrets(invocation, true);
  await stopIfInterrupted();
  for (const engine of labEngines(invocation.lab, env).filter((candidate) => runsNodes(invocation.lab, candidate)))
    await buildAssetImages(invocation.lab, env, labAssetImages(invocation.lab, engine.host), engine.host);
  const outputs: Record<string, Record<string, unknown>> = {};
  // Kept through every write below: a deploy that fails half-way does not forget what the last one recorded.
  const previous = previousImageDigests();
  const summary: string[] = [];
  for (const stack of stacks) {
    await stopIfInterrupted();
    say(`deploying stack ${stack.name}`);
    const terraform = terraformFor(stack, env);
    await rollServers(invocation, stack, terraform);
    const plan = await applyRetryingSwarmAttach(terraform, invocation.lab);
    outputs[stack.name] = terraform.outputs();
    summary.push(`${stack.name}: applied (${describePlan(plan)})`);
    // Written after each stack, so a later failure still leaves what the finished stacks report.
    writeFileSync(OUTPUTS_FILE, jsonFileText({ ...outputs, imageDigests: previous }));
  }
  // What each tag resolved to, kept beside the stacks' outputs so a user can pin what worked.
  const images = await imageDigests(
    invocation.lab,
    labEngines(invocation.lab, env).filter((engine) => runsNodes(invocation.lab, engine)),
    previous,
  );
  for (const line of images.lines) say(line);
  writeFileSync(OUTPUTS_FILE, jsonFileText({ ...outputs, imageDigests: { ...previous, ...images.digests } }));
  console.log("\ndeploy summary:");
  for (const line of summary) console.log(`  ${line}`);
  say(`outputs written to outputs.json; check the lab with \`npm run verify\``);
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  // Ctrl-C at the prompt is a "no", not a prompt left waiting.
  const cancelled = new AbortController();
  prompt.on("SIGINT", () => cancelled.abort());
  try {
    return (await prompt.question(question, { signal: cancelled.signal })).trim() === "yes";
  } catch {
    return false;
  } finally {
    prompt.close();
  }
}

async function destroy(invocation: Invocation): Promise<void> {
  const env = invocation.env;
  const stacks = (await synthWithSecrets(invocation, false)).reverse();
  if (!invocation.options.includes("--auto-approve")) {
    if (!process.stdin.isTTY)
      throw new CliError("destroy asks before it deletes anything; run it in a terminal, or pass --auto-approve");
    const names = stacks.map((stack) => stack.name).join(", ");
    if (!(await confirm(`Destroy the stacks ${names} of lab ${invocation.lab.topology.name}? Only "yes" goes on: `))) {
      throw new CliError("destroy cancelled; nothing was changed");
    }
  }
  const summary: string[] = [];
  for (const stack of stacks) {
    await stopIfInterrupted();
    const terraform = terraformFor(stack, env);
    if (terraform.deployedResourceCount() === 0) {
      summary.push(`${stack.name}: nothing to destroy`);
      continue;
    }
    if (stack.dependencies.length > 0) {
      const down = await consulAnswers(invocation.lab, invocation.env);
      if (down) {
        // Its objects live inside the cluster and go with it; planning them would need the API that is down.
        const set = terraform.setStateAside();
        summary.push(`${stack.name}: Consul does not answer (${down}); its state was set aside as ${set}`);
        continue;
      }
    }
    say(`destroying stack ${stack.name}`);
    const plan = await terraform.planAndApply(true);
    // Terraform keeps the state before the destroy as <state>.backup, every secret in clear: nothing needs it now.
    terraform.removeStateBackup();
    summary.push(`${stack.name}: destroyed (${describePlan(plan)})`);
  }
  console.log("\ndestroy summary:");
  for (const line of summary) console.log(`  ${line}`);
}

/**
 * cdktf's own `plan` file, which holds every variable in clear: saved through the stack's `plan` link into
 * .secrets/terraform (secrets/stack-variables.ts), and removed there after each passthrough.
 */
function removeCdktfPlans(stacks: readonly string[]): void {
  for (const stack of stacks) rmSync(join(PROJECT_ROOT, stackPlanFile(stack)), { force: true });
}

async function cdktf({ lab, env, options }: Invocation): Promise<number> {
  const creates = options[0] === "deploy" || options[0] === "apply";
  // Without a terminal, the CLI's Ink interface draws spinner frames into the log unless it believes it runs in CI.
  const plain = process.stdout.isTTY ? {} : { CI: env.CI || "1" };
  // The app cdktf runs (cli/cdktf-app.ts) writes the stacks' variables from the secrets file; a deploy creates it.
  labSecrets(lab, env, creates, say);
  try {
    return await passThrough(join(PROJECT_ROOT, "node_modules", ".bin", "cdktf"), options, {
      cwd: PROJECT_ROOT,
      env: { ...env, ...plain },
    });
  } finally {
    removeCdktfPlans(existsSync(join(OUTDIR, "stacks")) ? readdirSync(join(OUTDIR, "stacks")) : []);
  }
}

/** Finishes an interrupted drill first (it stopped containers and may have set the operator's switch), then heals. */
async function repair({ lab, env }: Invocation): Promise<boolean> {
  const engines = labEngines(lab, env);
  const name = lab.topology.name;
  const deployed = deployedContainerIds();
  const containers = new LabContainers(engines, name, deployed);
  // With the deployed containers in the state, the labelled ones beside them are named once, and never touched.
  if (deployed) {
    await containers.listReachable();
    if (containers.leftAlone.size > 0) say(leftAloneLine(containers, name));
  }
  let drillFinished: boolean | undefined = true;
  if (readDrillState()) {
    say(`an interrupted drill left ${DRILL_STATE_FILE}; putting back what it changed first`);
    // Only this part needs Consul's API (the operator's switch), through forwards from a remote publish host; the
    // repair itself asks each host's engine, and goes on when the API cannot be reached.
    try {
      drillFinished = await withPublishedPorts({ lab, env, options: [] }, () =>
        restoreInterruptedDrill(name, containers, labApi(lab, env), say),
      );
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      say(`cannot finish the interrupted drill now: ${error.message}; run \`npm run verify -- --restore\` later`);
      drillFinished = false;
    }
  }
  const whole = await repairLab(
    engines.filter((engine) => runsNodes(lab, engine)),
    name,
    say,
    deployed,
  );
  return whole && drillFinished !== false;
}

/**
 * On one host, the Docker provider reads DOCKER_HOST but not the CLI's current context: point both at the same engine.
 * Over several hosts, each provider names its own engine, and the variables it would take as defaults instead
 * (DOCKER_CONTEXT overrides a provider's host, DOCKER_CERT_PATH turns its ssh:// into TLS) are removed.
 */
function pointTerraformAtEngines(lab: Lab, env: NodeJS.ProcessEnv): void {
  if (!lab.multiHost) {
    if (!env.DOCKER_HOST) {
      const endpoint = new DockerCli(env).endpoint();
      if (endpoint.startsWith("context ")) throw new CliError(`the Docker ${endpoint}; check DOCKER_CONTEXT`);
      env.DOCKER_HOST = endpoint;
    }
    // The provider takes DOCKER_CONTEXT over DOCKER_HOST (the CLI the other way round), and a certificate folder turns
    // its ssh:// into TLS: only the engine the CLI talks to is left.
    delete env.DOCKER_CONTEXT;
    if (!env.DOCKER_HOST.startsWith("tcp://")) {
      delete env.DOCKER_CERT_PATH;
      delete env.DOCKER_TLS_VERIFY;
    }
    return;
  }
  for (const name of DOCKER_ENGINE_VARIABLES) delete env[name];
}

/** The commands this entry point runs; `topology`, `secrets` and `diagram` have entry points of their own. */
const COMMANDS = ["synth", "doctor", "diff", "deploy", "destroy", "repair", "cdktf"] as const satisfies CommandName[];

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!(COMMANDS as readonly string[]).includes(command ?? "") || !isCommandName(command)) {
    console.error(`usage: npm run ${COMMANDS.join("|")} [-- --help]`);
    return 2;
  }
  let given: ReturnType<typeof parseCommandLine>;
  try {
    given = parseCommandLine(command, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`consul-lab: ${error.message}`);
    return 2;
  }
  if (given === "help") {
    process.stdout.write(usageOf(command));
    return 0;
  }
  // `cdktf` hands every argument on; the others are flags, looked up by name.
  const options = command === "cdktf" ? args : [...given.keys()];
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
  const runsTerraform = ["diff", "deploy", "destroy", "cdktf"].includes(command!);
  // Ctrl-C reaches Terraform too, which stops cleanly; the CLI waits for it, cleans up, and reports the interruption.
  // A closed terminal (SIGHUP) too: Terraform is stopped as on SIGTERM, and the ssh forwards stay until it has.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => (interrupted = signal));
  try {
    if (runsTerraform) {
      // Terraform writes the state, and saved plans, with every secret in clear: only this user may read them.
      process.umask(0o077);
      protectState();
    }
    const invocation = { lab: loadLab(env), env, options };
    if (runsTerraform) {
      pointTerraformAtEngines(invocation.lab, env);
      // What would point Terraform or a provider at another cluster, or weaken its checks (the table's `removed`).
      removeRedirectingVariables(env);
    }
    switch (command) {
      case "synth":
        await synth(env);
        say(`wrote ${OUTDIR}`);
        return 0;
      case "doctor":
        return (await doctor(invocation)) ? 0 : 1;
      case "diff":
        await withPublishedPorts(invocation, () => diff(invocation));
        return 0;
      case "deploy":
        await deploy(invocation);
        return 0;
      case "destroy":
        await withPublishedPorts(invocation, () => destroy(invocation));
        return 0;
      case "repair":
        return (await repair(invocation)) ? 0 : 1;
      default:
        return await withPublishedPorts(invocation, () => cdktf(invocation));
    }
  } catch (error) {
    if (error instanceof TopologyError) {
      console.error(error.message);
      return 1;
    }
    if (error instanceof CliError || error instanceof SecretsError) {
      console.error(`consul-lab: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  async (status) => {
    // A signal that arrived during the last step is seen here, before the exit status is decided.
    await new Promise((resolve) => setImmediate(resolve));
    if (interrupted) {
      // Only a command that ran Terraform stopped it; a synth or the doctor simply stopped.
      const what = terraformRan ? "Terraform was stopped, and its plan removed" : "nothing after this point was done";
      console.error(`consul-lab: interrupted (${interrupted}); ${what}`);
      process.exit(interrupted === "SIGINT" ? 130 : interrupted === "SIGHUP" ? 129 : 143);
    }
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
