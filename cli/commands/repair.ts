import { deployedContainerIds } from "../../runtime/deployed-containers";
import { labApi } from "../../runtime/lab-api";
import { LabContainers, leftAloneLine } from "../../runtime/lab-containers";
import { labEngines, runsNodes } from "../../runtime/lab-engines";
import { CliError } from "../../runtime/process";
import { DRILL_STATE_FILE, readDrillState, restoreInterruptedDrill } from "../../verify/drill-state";
import type { RunContext } from "../context";
import { repairLab } from "../repair";
import { withPublishedPorts } from "../stack-steps";

/**
 * `npm run repair`: finishes an interrupted drill first (it stopped containers and may have set the operator's
 * switch), then makes every node whole.
 */
export async function repairCommand(ctx: RunContext): Promise<number> {
  const { lab, env, say } = ctx;
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
      drillFinished = await withPublishedPorts(ctx, () =>
        restoreInterruptedDrill(name, containers, () => labApi(lab, env), say),
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
  return whole && drillFinished !== false ? 0 : 1;
}
