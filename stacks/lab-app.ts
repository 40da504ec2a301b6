import { App } from "cdktf";
import { Lab, loadLab, TopologyError } from "../topology";
import { ClusterStack } from "./cluster-stack";
import { ConsulStack } from "./consul-stack";
import { writeRenderedFiles } from "./rendered-files";
import { missingProviders, STACK_TRACES_ENV, withoutCreationStackTraces } from "./synthesis-shortcuts";

/**
 * The app: reads the topology, builds the stacks, synthesizes them into CDKTF_OUTDIR (or cdktf.out). Resolves to the
 * lab and where it was written, or undefined after printing why it could not (exit status 1).
 */
export function synthesizeLab(): { lab: Lab; outdir: string } | undefined {
  let lab: Lab;
  try {
    lab = loadLab();
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return undefined;
  }
  try {
    return withoutCreationStackTraces(() => {
      // cdktf's validations would run `terraform version` for terraform_data, so synthesizing would need Terraform;
      // `npm run doctor` checks it before any deploy. The other validation cdktf adds, that every resource's provider
      // is declared in its stack, still runs here.
      const app = new App({ skipValidation: true });
      const cluster = new ClusterStack(app, "cluster", { lab });
      const consul = new ConsulStack(app, "consul", { lab, cluster });
      const missing = missingProviders([cluster, consul]);
      if (missing.length > 0) throw new Error(missing.join("\n"));
      app.synth();
      // Beside the stacks, each uploaded file as the plain file it becomes on its node, for review.
      writeRenderedFiles(app.outdir);
      return { lab, outdir: app.outdir };
    });
  } catch (error) {
    // A valid topology that still fails here is a missing validation rule: one line, the stack only on request.
    console.error(`consul-lab: synth failed: ${(error as Error).message}`);
    if (process.env[STACK_TRACES_ENV] === "1") console.error((error as Error).stack);
    else console.error(`consul-lab: run again with ${STACK_TRACES_ENV}=1 for the stack trace, and report it as a bug`);
    process.exitCode = 1;
    return undefined;
  }
}
