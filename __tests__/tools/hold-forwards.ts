/**
 * Opens the lab's ssh forwards as a command does and holds them until a signal: for the test that a signal ends them
 * (ssh-forwards.test.ts). Prints `open` once they are.
 */
import { reachPublishedPorts } from "../../runtime/published-ports";
import { loadLab } from "../../topology";

void (async () => {
  await reachPublishedPorts(loadLab(process.env), process.env);
  console.log("open");
  setInterval(() => {}, 1_000);
})();
