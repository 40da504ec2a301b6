import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stackPlanFile } from "../../secrets";
import { passThrough, PROJECT_ROOT } from "../../runtime/process";
import type { RunContext } from "../context";
import { labSecrets } from "../deploy-secrets";
import { OUTDIR, withPublishedPorts } from "../stack-steps";

/**
 * cdktf's own `plan` file, which holds every variable in clear: saved through the stack's `plan` link into
 * .secrets/terraform (secrets/stack-variables.ts), and removed there after each passthrough.
 */
function removeCdktfPlans(stacks: readonly string[]): void {
  for (const stack of stacks) rmSync(join(PROJECT_ROOT, stackPlanFile(stack)), { force: true });
}

/** `npm run cdktf -- ARGS`: the cdktf CLI itself, with the lab's secrets and published ports in place. */
export async function cdktfCommand(ctx: RunContext): Promise<number> {
  const { lab, env, args } = ctx;
  const creates = args[0] === "deploy" || args[0] === "apply";
  // Without a terminal, the CLI's Ink interface draws spinner frames into the log unless it believes it runs in CI.
  const plain = process.stdout.isTTY ? {} : { CI: env.CI || "1" };
  return withPublishedPorts(ctx, async () => {
    // The app cdktf runs (cli/cdktf-app.ts) writes the stacks' variables from the secrets file; a deploy creates it.
    labSecrets(lab, env, creates, ctx.say);
    try {
      return await passThrough(join(PROJECT_ROOT, "node_modules", ".bin", "cdktf"), args, {
        cwd: PROJECT_ROOT,
        env: { ...env, ...plain },
      });
    } finally {
      removeCdktfPlans(existsSync(join(OUTDIR, "stacks")) ? readdirSync(join(OUTDIR, "stacks")) : []);
    }
  });
}
