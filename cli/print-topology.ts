/** `npm run --silent topology`: the effective topology (defaults applied) as JSON, a start for your own file. */
import { loadTopology, TopologyError } from "../topology";

try {
  process.stdout.write(`${JSON.stringify(loadTopology(), null, 2)}\n`);
} catch (error) {
  if (!(error instanceof TopologyError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
