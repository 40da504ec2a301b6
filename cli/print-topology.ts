/** `npm run --silent topology`: the effective topology (defaults applied) as JSON, a start for your own file. */
import { loadTopology, TopologyError } from "../topology";
import { jsonFileText } from "../shared/generated-file";

try {
  process.stdout.write(jsonFileText(loadTopology()));
} catch (error) {
  if (!(error instanceof TopologyError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
