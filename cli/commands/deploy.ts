import { readFileSync, writeFileSync } from "node:fs";
import { labAssetImages } from "../../shared/asset-images";
import { jsonFileText } from "../../shared/generated-file";
import { buildAssetImages } from "../../runtime/docker-cli";
import { labApi } from "../../runtime/lab-api";
import { labEngines, runsNodes } from "../../runtime/lab-engines";
import { CliError } from "../../runtime/process";
import type { RunContext } from "../context";
import { imageDigests } from "../image-digests";
import type { SynthesizedStack } from "../manifest";
import { describePlan, type PlanSummary } from "../plan-summary";
import { nodeAddresses, serversToRoll, waitForServerBack } from "../rolling-servers";
import {
  doctorPasses,
  OUTPUTS_FILE,
  stackJson,
  synthWithSecrets,
  terraformFor,
  withPublishedPorts,
} from "../stack-steps";
import { type StackTerraform, SwarmAttachError } from "../terraform";

/** How often an apply that failed only on a swarm attach is planned and applied again, and how long apart. */
const SWARM_ATTACH_ATTEMPTS = 3;
const SWARM_ATTACH_RETRY_SECONDS_ENV = "CONSUL_LAB_SWARM_ATTACH_RETRY_SECONDS";

/** How long the deploy waits for a replaced server to be back (rolling-servers.ts), and how often it looks. */
const ROLL_GATE_SECONDS_ENV = "CONSUL_LAB_ROLL_GATE_SECONDS";
const ROLL_POLL_MS_ENV = "CONSUL_LAB_ROLL_POLL_MS";

/**
 * Plans and applies a stack; an apply that failed only on a container's first attach to the swarm overlay (a known
 * transient, see SWARM_ATTACH_FAILURE) is planned and applied again after a pause: the failed container is tainted,
 * so the new plan replaces it, by which time Docker has freed its address.
 */
async function applyRetryingSwarmAttach(ctx: RunContext, terraform: StackTerraform): Promise<PlanSummary> {
  const pauseSeconds = Number(ctx.env[SWARM_ATTACH_RETRY_SECONDS_ENV] ?? 10);
  for (let attempt = 1; ; attempt++) {
    try {
      return await terraform.planAndApply();
    } catch (error) {
      // Only a lab over several hosts has an overlay to attach to; a Ctrl-C during the apply ends here too.
      if (!(error instanceof SwarmAttachError) || !ctx.lab.multiHost || attempt === SWARM_ATTACH_ATTEMPTS) throw error;
      await ctx.interruption.stopIfInterrupted();
      ctx.say(
        `a container's attach to the swarm overlay failed, as it can on a host that joined the swarm moments ago (Docker frees the address after a while); planning and applying again in ${pauseSeconds} s (attempt ${attempt + 1} of ${SWARM_ATTACH_ATTEMPTS})`,
      );
      await new Promise((resolve) => setTimeout(resolve, pauseSeconds * 1000));
      await ctx.interruption.stopIfInterrupted();
    }
  }
}

/**
 * When the stack's plan replaces more than one server, replaces them one at a time first, each followed by the gate
 * (rolling-servers.ts). A stack not yet deployed has nothing to replace, and is not planned twice.
 */
async function rollServers(ctx: RunContext, stack: SynthesizedStack, terraform: StackTerraform): Promise<void> {
  const json = stackJson(stack);
  const { multiHost } = ctx.lab;
  const holdsServers = ctx.lab.servers.some((server) => nodeAddresses(json, server.name, multiHost).length > 0);
  if (!holdsServers || terraform.deployedResourceCount() === 0) return;
  await terraform.planOnly();
  const roll = serversToRoll(ctx.lab, json, terraform.plannedChanges);
  if (roll.length <= 1) return;
  ctx.say(
    `the plan replaces the servers ${roll.join(", ")}: replacing them one at a time, so the cluster keeps a leader`,
  );
  const gate = {
    timeoutMs: Number(ctx.env[ROLL_GATE_SECONDS_ENV] ?? 300) * 1000,
    pollMs: Number(ctx.env[ROLL_POLL_MS_ENV] ?? 2000),
    progress: ctx.say,
  };
  for (const server of roll) {
    await ctx.interruption.stopIfInterrupted();
    ctx.say(`replacing server ${server}`);
    await terraform.planAndApply(false, nodeAddresses(json, server, multiHost));
    await waitForServerBack(labApi(ctx.lab, ctx.env), server, gate);
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

async function deployChecked(ctx: RunContext): Promise<void> {
  const { lab, env } = ctx;
  const stacks = await synthWithSecrets(ctx, true);
  await ctx.interruption.stopIfInterrupted();
  const engines = labEngines(lab, env).filter((engine) => runsNodes(lab, engine));
  for (const engine of engines) await buildAssetImages(lab, env, labAssetImages(lab, engine.host), engine.host);
  const outputs: Record<string, Record<string, unknown>> = {};
  // Kept through every write below: a deploy that fails half-way does not forget what the last one recorded.
  const previous = previousImageDigests();
  const summary: string[] = [];
  for (const stack of stacks) {
    await ctx.interruption.stopIfInterrupted();
    ctx.say(`deploying stack ${stack.name}`);
    const terraform = terraformFor(ctx, stack);
    await rollServers(ctx, stack, terraform);
    const plan = await applyRetryingSwarmAttach(ctx, terraform);
    outputs[stack.name] = terraform.outputs();
    summary.push(`${stack.name}: applied (${describePlan(plan)})`);
    // Written after each stack, so a later failure still leaves what the finished stacks report.
    writeFileSync(OUTPUTS_FILE, jsonFileText({ ...outputs, imageDigests: previous }));
  }
  // What each tag resolved to, kept beside the stacks' outputs so a user can pin what worked.
  const images = await imageDigests(lab, engines, previous);
  for (const line of images.lines) ctx.say(line);
  writeFileSync(OUTPUTS_FILE, jsonFileText({ ...outputs, imageDigests: { ...previous, ...images.digests } }));
  console.log("\ndeploy summary:");
  for (const line of summary) console.log(`  ${line}`);
  ctx.say(`outputs written to outputs.json; check the lab with \`npm run verify\``);
}

/** `npm run deploy`: the doctor, the images, every stack applied in order, outputs.json. */
export async function deployCommand(ctx: RunContext): Promise<number> {
  if (!ctx.options.has("--skip-doctor") && !(await doctorPasses(ctx))) {
    throw new CliError("the host is not ready; nothing was changed");
  }
  await ctx.interruption.stopIfInterrupted();
  // After the doctor, which checks that the ports the forwards take here are free.
  await withPublishedPorts(ctx, () => deployChecked(ctx));
  return 0;
}
