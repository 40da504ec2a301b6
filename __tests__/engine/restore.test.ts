/**
 * The drill's Restorer (verify/drill-state.ts) on real labelled containers: what it stops is recorded on disk
 * first, and a later Restorer, as `npm run verify -- --restore` makes after the drill's process died, starts it again.
 */
import { existsSync } from "node:fs";
import { DockerCli } from "../../runtime/docker-cli";
import { ConsulApi } from "../../runtime/consul-api";
import { drillStatePath, readDrillState, Restorer } from "../../verify/drill-state";
import { LabContainers } from "../../runtime/lab-containers";
import { deployContainers, inspect, removeLab, synthesizedCluster, uniqueLab } from "./engine";

let lab: Awaited<ReturnType<typeof uniqueLab>>;

beforeAll(async () => {
  // The state file lives in the checkout: a real interrupted drill's must not be touched.
  if (existsSync(drillStatePath())) throw new Error(`${drillStatePath()} exists: finish that drill first`);
  lab = await uniqueLab();
  deployContainers(synthesizedCluster(lab.topologyFile), ["dev1004"]);
});

afterAll(() => removeLab(lab.name));

describe("the drill's restore on a real engine", () => {
  it("starts what a dead drill stopped, from the state it wrote before stopping it", async () => {
    const containers = new LabContainers(new DockerCli(process.env), lab.name);
    // Nothing here writes Consul: the drill's own switch is never set in this test.
    const api = new ConsulApi("127.0.0.1:1", undefined);
    const app = (await containers.find("dev1004", "app"))!;
    await new Restorer(containers, api, lab.name).stop(app);
    expect(inspect(app.name).State.Running).toBe(false);
    expect(readDrillState()).toEqual({ lab: lab.name, stopped: [app.name] });

    // A new process: only the file knows what was stopped.
    const lines = await new Restorer(containers, api, lab.name).restore();
    expect(lines).toEqual([`started ${app.name} again`]);
    expect(inspect(app.name).State.Running).toBe(true);
    expect(existsSync(drillStatePath())).toBe(false);
  });
});
