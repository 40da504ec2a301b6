import { createInterface } from "node:readline/promises";
import { CliError } from "../../runtime/process";
import type { RunContext } from "../context";
import { describePlan } from "../plan-summary";
import { consulAnswers, synthWithSecrets, terraformFor, withPublishedPorts } from "../stack-steps";

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

async function destroyStacks(ctx: RunContext): Promise<void> {
  const stacks = (await synthWithSecrets(ctx, false)).reverse();
  if (!ctx.options.has("--auto-approve")) {
    if (!process.stdin.isTTY)
      throw new CliError("destroy asks before it deletes anything; run it in a terminal, or pass --auto-approve");
    const names = stacks.map((stack) => stack.name).join(", ");
    if (!(await confirm(`Destroy the stacks ${names} of lab ${ctx.lab.topology.name}? Only "yes" goes on: `))) {
      throw new CliError("destroy cancelled; nothing was changed");
    }
  }
  const summary: string[] = [];
  for (const stack of stacks) {
    await ctx.interruption.stopIfInterrupted();
    const terraform = terraformFor(ctx, stack);
    if (terraform.deployedResourceCount() === 0) {
      summary.push(`${stack.name}: nothing to destroy`);
      continue;
    }
    if (stack.dependencies.length > 0) {
      const down = await consulAnswers(ctx.lab, ctx.env);
      if (down) {
        // Its objects live inside the cluster and go with it; planning them would need the API that is down.
        const set = terraform.setStateAside();
        summary.push(`${stack.name}: Consul does not answer (${down}); its state was set aside as ${set}`);
        continue;
      }
    }
    ctx.say(`destroying stack ${stack.name}`);
    const plan = await terraform.planAndApply(true);
    // Terraform keeps the state before the destroy as <state>.backup, every secret in clear: nothing needs it now.
    terraform.removeStateBackup();
    summary.push(`${stack.name}: destroyed (${describePlan(plan)})`);
  }
  console.log("\ndestroy summary:");
  for (const line of summary) console.log(`  ${line}`);
}

/** `npm run destroy`: every stack in reverse order, after asking. */
export async function destroyCommand(ctx: RunContext): Promise<number> {
  await withPublishedPorts(ctx, () => destroyStacks(ctx));
  return 0;
}
