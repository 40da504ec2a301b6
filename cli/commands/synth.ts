import type { RunContext } from "../context";
import { OUTDIR, synth } from "../stack-steps";

/** `npm run synth`: writes cdktf.out/ with the app alone. */
export async function synthCommand(ctx: RunContext): Promise<number> {
  await synth(ctx.env);
  ctx.say(`wrote ${OUTDIR}`);
  return 0;
}
