/**
 * `npm run doctor` against a real engine: what it sees of real networks, real published ports and the engine itself,
 * and that it tells the lab's own objects from everything else.
 */
import {
  deployContainers,
  docker,
  dockerOk,
  labCli,
  removeLab,
  synthesizedCluster,
  TEST_IMAGE,
  uniqueLab,
} from "./engine";

let lab: Awaited<ReturnType<typeof uniqueLab>>;
const others: string[] = [];

beforeAll(async () => {
  lab = await uniqueLab();
});

afterEach(() => {
  for (const name of others.splice(0)) {
    docker(["rm", "--force", name]);
    docker(["network", "rm", name]);
  }
});

afterAll(() => removeLab(lab.name));

const line = (stdout: string, check: string) => stdout.split("\n").find((text) => text.includes(` ${check}: `)) ?? "";

describe("npm run doctor on a real engine", () => {
  it("names the engine's version, and says an engine before 29 can need npm run repair after a reboot", () => {
    const server = dockerOk(["version", "--format", "{{.Server.Version}}"]).trim();
    const doctor = labCli(["doctor"], lab.topologyFile);
    expect(line(doctor.stdout, "docker engine")).toContain(`ok       docker engine: ${server}`);
    if (Number(server.split(".")[0]) < 29) expect(line(doctor.stdout, "docker engine")).toContain("npm run repair");
  });

  it("reports a real network that overlaps the lab's subnet, and never a built-in one", () => {
    const name = `${lab.name}-other`;
    others.push(name);
    dockerOk(["network", "create", "--subnet", lab.input.network!.subnet!, name]);
    const subnet = line(labCli(["doctor"], lab.topologyFile).stdout, "subnet");
    expect(subnet).toMatch(new RegExp(`^PROBLEM  subnet: .*overlaps Docker network ${name} \\(`));
    for (const builtIn of ["bridge", "host", "none"]) expect(subnet).not.toContain(`Docker network ${builtIn} `);
  });

  it("reports a published port that a real container holds", () => {
    const name = `${lab.name}-holder`;
    others.push(name);
    const port = lab.input.publish!.httpPort!;
    // On a network of its own: this engine has no default bridge, and a container without one publishes nothing.
    dockerOk(["network", "create", name]);
    dockerOk([
      "run",
      "--detach",
      "--name",
      name,
      "--network",
      name,
      "--publish",
      `127.0.0.1:${port}:80`,
      TEST_IMAGE,
      "-c",
      "sleep 600",
    ]);
    expect(line(labCli(["doctor"], lab.topologyFile).stdout, "ports")).toContain(
      `PROBLEM  ports: taken: 127.0.0.1:${port}/tcp (publish.httpPort: in use)`,
    );
  });

  it("recognises the lab's own network and published ports on a redeploy", () => {
    deployContainers(synthesizedCluster(lab.topologyFile), ["dev1001"]);
    const doctor = labCli(["doctor"], lab.topologyFile).stdout;
    expect(line(doctor, "subnet")).toContain(`(network ${lab.name} is the lab's own)`);
    expect(line(doctor, "ports")).toMatch(/^ok {7}ports: /);
  });
});
