/** Reads the topology, builds the stacks, synthesizes. Nothing else lives here. */
import { App } from "cdktf";
import { ClusterStack, ConsulStack, withoutCreationStackTraces } from "./stacks";
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
  withoutCreationStackTraces(() => {
    const app = new App();
    const cluster = new ClusterStack(app, "cluster", { lab });
    new ConsulStack(app, "consul", { lab, cluster });
    app.synth();
  });
}

main();
