/** Reads the topology, builds the stacks, synthesizes. Nothing else lives here. */
import { App } from "cdktf";
import { ValidateProviderPresence } from "cdktf/lib/validations/validate-provider-presence";
import { ClusterStack, ConsulStack, STACK_TRACES_ENV, withoutCreationStackTraces } from "./stacks";
import { loadLab, TopologyError } from "./topology";

function main(): void {
  let lab;
  try {
    lab = loadLab();
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  try {
    withoutCreationStackTraces(() => {
      // cdktf's validations would run `terraform version` for terraform_data, so synthesizing would need Terraform;
      // `npm run doctor` checks it before any deploy. The other validation cdktf adds, that every resource's provider
      // is declared in its stack, still runs here.
      const app = new App({ skipValidation: true });
      const cluster = new ClusterStack(app, "cluster", { lab });
      const consul = new ConsulStack(app, "consul", { lab, cluster });
      const missing = [cluster, consul].flatMap((stack) => new ValidateProviderPresence(stack).validate());
      if (missing.length > 0) throw new Error(missing.join("\n"));
      app.synth();
    });
  } catch (error) {
    // A valid topology that still fails here is a missing validation rule: one line, the stack only on request.
    console.error(`consul-lab: synth failed: ${(error as Error).message}`);
    if (process.env[STACK_TRACES_ENV] === "1") console.error((error as Error).stack);
    else console.error(`consul-lab: run again with ${STACK_TRACES_ENV}=1 for the stack trace, and report it as a bug`);
    process.exitCode = 1;
  }
}

main();
