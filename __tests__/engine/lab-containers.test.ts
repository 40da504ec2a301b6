/**
 * How `verify` and its drill find and act on the lab's containers (runtime/lab-containers.ts), against real
 * containers: by the lab's label only, never by a name that merely looks like the lab's.
 */
import { DockerCli } from "../../runtime/docker-cli";
import { LabContainers } from "../../runtime/lab-containers";
import {
  deployContainers,
  docker,
  dockerOk,
  inspect,
  removeLab,
  synthesizedCluster,
  TEST_IMAGE,
  uniqueLab,
} from "./engine";

let lab: Awaited<ReturnType<typeof uniqueLab>>;
let containers: LabContainers;
const foreign = () => [`${lab.name}-dev1004-app-copy`, `${lab.name}-dev1005-app`.replace(lab.name, `${lab.name}x`)];

beforeAll(async () => {
  lab = await uniqueLab();
  deployContainers(synthesizedCluster(lab.topologyFile), ["dev1004", "dev1005"]);
  // Look-alikes: a lab-like name without the label, and another lab's label with the same node and role.
  dockerOk([
    "run",
    "--detach",
    "--name",
    foreign()[0],
    "--network",
    `container:${lab.name}-dev1004-net`,
    TEST_IMAGE,
    "-c",
    "sleep 600",
  ]);
  dockerOk([
    "run",
    "--detach",
    "--name",
    foreign()[1],
    "--network",
    "none",
    "--label",
    `consul-lab.lab=${lab.name}x`,
    "--label",
    "consul-lab.node=dev1005",
    "--label",
    "consul-lab.role=app",
    TEST_IMAGE,
    "-c",
    "sleep 600",
  ]);
  containers = new LabContainers(new DockerCli(process.env), lab.name);
});

afterAll(() => {
  docker(["rm", "--force", ...foreign()]);
  removeLab(lab.name);
});

describe("the lab's containers on a real engine", () => {
  it("are found by the lab's label, each with its node and role, and nothing else is", async () => {
    const found = (await containers.list()).map(
      (c) => `${c.node}/${c.role}: ${c.name} ${c.running ? "running" : "stopped"}`,
    );
    expect(found.sort()).toEqual(
      [
        "dev1004/netns: -dev1004-net",
        "dev1004/agent: -dev1004",
        "dev1004/dns: -dev1004-dns",
        "dev1004/app: -dev1004-app",
        "dev1005/netns: -dev1005-net",
        "dev1005/agent: -dev1005",
        "dev1005/dns: -dev1005-dns",
        "dev1005/app: -dev1005-app",
      ]
        .map((entry) => entry.replace(": -", `: ${lab.name}-`) + " running")
        .sort(),
    );
  });

  it("are stopped and started by the drill's own calls, and a look-alike is refused", async () => {
    const app = (await containers.find("dev1004", "app"))!;
    await containers.stop(app);
    expect(inspect(app.name).State.Running).toBe(false);
    await containers.start(app);
    expect(inspect(app.name).State.Running).toBe(true);
    const lookAlike = { name: foreign()[0], node: "dev1004", role: "app", running: true };
    await expect(containers.stop(lookAlike)).rejects.toThrow(
      `refusing to stop ${foreign()[0]}: it is not a container of lab ${lab.name}`,
    );
    expect(inspect(foreign()[0]).State.Running).toBe(true);
  });

  it("report each node whole, the way verify and repair judge it", async () => {
    const pods = await containers.pods();
    expect(pods.map((pod) => [pod.node, pod.namespaceRunning, pod.joined.map((c) => c.state)])).toEqual([
      ["dev1004", true, ["whole", "whole", "whole"]],
      ["dev1005", true, ["whole", "whole", "whole"]],
    ]);
  });

  it("run a command inside a container of the lab, and only there", async () => {
    expect(await containers.exec((await containers.find("dev1005", "dns"))!, ["hostname"])).toBe("dev1005\n");
  });
});
