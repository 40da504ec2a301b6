import type { RunContext } from "../context";
import type { SynthesizedStack } from "../manifest";
import { describePlan } from "../plan-summary";
import { serversToRoll } from "../rolling-servers";
import { consulAnswers, stackJson, synthWithSecrets, terraformFor, withPublishedPorts } from "../stack-steps";

/** Why a stack cannot be planned yet, or undefined when it can. */
async function notPlannable(ctx: RunContext, stack: SynthesizedStack, stacks: SynthesizedStack[]) {
  for (const dependency of stack.dependencies) {
    const before = stacks.find((candidate) => candidate.name === dependency)!;
    if (terraformFor(ctx, before).deployedResourceCount() === 0) {
      return `it configures what the ${dependency} stack runs, and ${dependency} is not deployed yet; \`npm run deploy\` applies both in order`;
    }
  }
  if (stack.dependencies.length > 0) {
    const down = await consulAnswers(ctx.lab, ctx.env);
    if (down)
      return `Consul's API at ${ctx.lab.publishedHttpAddress} does not answer (${down}); is the lab running? (\`npm run doctor\`, \`docker ps\`)`;
  }
  return undefined;
}

/** `npm run diff`: plans every stack in dependency order, with a summary per stack. */
export async function diffCommand(ctx: RunContext): Promise<number> {
  await withPublishedPorts(ctx, async () => {
    const stacks = await synthWithSecrets(ctx, false);
    const summary: string[] = [];
    for (const stack of stacks) {
      await ctx.interruption.stopIfInterrupted();
      const skipped = await notPlannable(ctx, stack, stacks);
      if (skipped) {
        summary.push(`${stack.name}: not planned: ${skipped}`);
        continue;
      }
      ctx.say(`planning stack ${stack.name}`);
      const terraform = terraformFor(ctx, stack);
      const planned = describePlan(await terraform.planOnly());
      const roll = serversToRoll(ctx.lab, stackJson(stack), terraform.plannedChanges);
      summary.push(
        roll.length > 1
          ? `${stack.name}: ${planned}; it replaces the servers ${roll.join(", ")}: npm run deploy replaces them one at a time, each back in the cluster before the next`
          : `${stack.name}: ${planned}`,
      );
    }
    console.log("\ndiff summary:");
    for (const line of summary) console.log(`  ${line}`);
  });
  return 0;
}
