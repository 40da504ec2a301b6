import type { RunContext } from "../context";
import { doctorPasses } from "../stack-steps";

/** `npm run doctor`: is this host ready for a deploy? */
export async function doctorCommand(ctx: RunContext): Promise<number> {
  return (await doctorPasses(ctx)) ? 0 : 1;
}
