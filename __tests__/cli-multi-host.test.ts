/**
 * The CLI on a lab over several hosts (examples/three-hosts.yaml), end to end with recording fakes: one fake engine per
 * host, a fake ssh that forwards, a fake Terraform. Each Docker command goes to its node's host, the published ports
 * come through ssh forwards from the publish node's host for exactly the length of a command, Terraform never sees the
 * user's own Docker variables, and a swarm attach that fails once is planned and applied again.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { labOf } from "./tools/helpers";
import { LabCheckout } from "./tools/lab-checkout";
import { labContainerLinesOn } from "./tools/lab-stand-in";
import { freeLoopbackPort } from "./tools/ports";
import { PROJECT_ROOT } from "./tools/synth";
import { type HostName, swarmEngines } from "./tools/swarm-engines";

jest.setTimeout(90_000);

const checkout = new LabCheckout();
const input = parse(readFileSync("examples/three-hosts.yaml", "utf8"));
const lab = () => labOf(input);
const topologyFile = join(checkout.root, "three-hosts.json");

beforeAll(async () => {
  input.publish = {
    httpPort: await freeLoopbackPort(),
    dnsPort: await freeLoopbackPort(),
    entryPort: await freeLoopbackPort(),
  };
  writeFileSync(topologyFile, JSON.stringify(input));
});

/** Runs a command of the CLI against three fake engines (after `change`), with the user's own Docker variables set. */
function run(
  script: string,
  args: string[] = [],
  extra: Record<string, string> = {},
  change?: Parameters<typeof swarmEngines>[0],
) {
  const engines = swarmEngines(change);
  return {
    engines,
    result: checkout.script(script, args, {
      CONSUL_LAB_TOPOLOGY: topologyFile,
      FAKE_DOCKER_HOSTS: engines,
      FAKE_SSH_REMOTE_ADDRESS: "127.0.0.2",
      DOCKER_HOST: "unix:///the/users/own.sock",
      DOCKER_CONTEXT: "the-users-own",
      ...extra,
    }),
  };
}

type Logged = { program: string; argv: string[]; event?: string; docker?: Record<string, string> };
const logged = () => checkout.calls() as unknown as Logged[];
const engineOf = (call: Logged) => call.docker?.DOCKER_HOST ?? `context ${call.docker?.DOCKER_CONTEXT}`;

describe("the CLI on a lab over three hosts", () => {
  it("deploys with forwards open from the publish node's host around Terraform, and builds each host's images there", async () => {
    const { result } = run("deploy");
    const { status, stderr } = await result;
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const calls = logged();
    const ssh = calls.map((call, index) => [call, index] as const).filter(([call]) => call.program === "ssh");
    // The doctor opens and closes them once; the deploy keeps them open while Terraform runs.
    expect(ssh.map(([call]) => `${call.event} ${call.argv.at(-1)}`)).toEqual([
      "opened ops@lab-a.example.test",
      "closed ops@lab-a.example.test",
      "opened ops@lab-a.example.test",
      "closed ops@lab-a.example.test",
    ]);
    // Terraform's init, plans and applies; the doctor's `terraform version` comes before.
    const terraform = calls
      .map((call, index) => [call, index] as const)
      .filter(([call]) => call.program === "terraform" && call.argv[0] !== "version");
    expect(terraform.length).toBeGreaterThan(0);
    expect(
      terraform.filter(([, index]) => !(index > ssh[2][1] && index < ssh[3][1])).map(([call]) => call.argv.join(" ")),
    ).toEqual([]);
    // Terraform sees no Docker variable: each provider names its own engine.
    expect(terraform.filter(([call]) => call.docker)).toEqual([]);
    const builds = calls
      .filter((call) => call.program === "docker" && call.argv[0] === "buildx" && call.argv[1] === "build")
      .map((call) => `${engineOf(call)} ${call.argv[call.argv.indexOf("--tag") + 1].replace(/:.*/, "")}`);
    expect(builds.sort()).toEqual([
      "context lab-c consul-lab-dnsmasq",
      "context lab-c consul-lab-load-balancer",
      "ssh://ops@lab-a.example.test consul-lab-dnsmasq",
      "ssh://ops@lab-b.example.test consul-lab-dnsmasq",
      "ssh://ops@lab-b.example.test consul-lab-load-balancer",
    ]);
    // No Docker command ever went to the user's own engine.
    expect(calls.filter((call) => call.program === "docker" && /users-own|users\/own/.test(engineOf(call)))).toEqual(
      [],
    );
  });

  it("plans and applies again when a container's first attach to the overlay fails, and says why", async () => {
    const failures = join(checkout.root, "attach-failures");
    writeFileSync(failures, "1");
    const { result } = run("deploy", [], {
      FAKE_SWARM_ATTACH_FAILURES: failures,
      CONSUL_LAB_SWARM_ATTACH_RETRY_SECONDS: "0",
    });
    const { status, stdout, stderr } = await result;
    expect(status).toBe(0);
    expect(stderr).toContain("attaching to network failed");
    expect(stdout).toContain("planning and applying again in 0 s (attempt 2 of 3)");
    const applies = logged().filter((call) => call.program === "terraform" && call.argv[0] === "apply");
    expect(applies).toHaveLength(3);
  });

  it("gives up after three failed attaches, with Terraform's own error above", async () => {
    const failures = join(checkout.root, "attach-failures");
    writeFileSync(failures, "5");
    const { result } = run("deploy", [], {
      FAKE_SWARM_ATTACH_FAILURES: failures,
      CONSUL_LAB_SWARM_ATTACH_RETRY_SECONDS: "0",
    });
    const { status, stderr } = await result;
    expect(status).toBe(1);
    expect(stderr).toContain(
      "terraform apply of stack cluster failed (exit 1) on a container's attach to the swarm overlay",
    );
    // The forwards are closed on failure too.
    expect(
      logged()
        .filter((call) => call.program === "ssh")
        .map((call) => call.event),
    ).toEqual(["opened", "closed", "opened", "closed"]);
  });

  it("repairs each host's nodes through that host's engine", async () => {
    const byHost = (host: HostName) => labContainerLinesOn(lab(), host);
    const { result } = run("repair", [], {}, (engines) => {
      for (const host of ["lab-a", "lab-b", "lab-c"] as HostName[]) engines[host]!.containers = byHost(host);
      // dev1005 (on lab-b) after its host rebooted: everything stopped.
      for (const line of engines["lab-b"]!.containers) if (line.Labels.includes("node=dev1005")) line.State = "exited";
    });
    const { status, stdout } = await result;
    expect(status).toBe(0);
    expect(stdout).toContain("lab-b: started consul-lab-dev1005-net (the namespace of dev1005)");
    expect(stdout).toContain("lab-a: all 2 nodes are whole; nothing to do");
    expect(stdout).toContain("lab-b: all 2 nodes are whole again");
    const starts = logged().filter((call) => call.program === "docker" && call.argv[0] === "start");
    expect(new Set(starts.map(engineOf))).toEqual(new Set(["ssh://ops@lab-b.example.test"]));
  });

  it("names a host whose engine does not answer when repairing, and still repairs the others", async () => {
    const { result } = run("repair", [], {}, (engines) => {
      engines["lab-c"] = undefined;
      for (const host of ["lab-a", "lab-b"] as HostName[]) engines[host]!.containers = labContainerLinesOn(lab(), host);
    });
    const { status, stdout } = await result;
    expect(status).toBe(1);
    expect(stdout).toContain(
      "cannot repair the nodes on host lab-c: docker ps failed: Cannot connect to the Docker daemon",
    );
    expect(stdout).toContain("lab-a: all 2 nodes are whole; nothing to do");
  });

  it("refuses, as the app `npx cdktf` runs, a Docker variable that would send every host's resources elsewhere", () => {
    const outdir = mkdtempSync(join(tmpdir(), "consul-lab-cdktf-app-"));
    const ran = spawnSync(process.execPath, ["scripts/run-ts.mjs", "cli/cdktf-app.ts"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, CONSUL_LAB_TOPOLOGY: topologyFile, CDKTF_OUTDIR: outdir, DOCKER_CONTEXT: "the-users-own" },
    });
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain(
      "consul-lab: DOCKER_CONTEXT is set, and the Docker provider would take it over each host's own endpoint; unset it, or run `npm run cdktf -- ...`, which leaves it out",
    );
  });

  it("finishes an interrupted drill on each host that answers, and names the one that does not", async () => {
    // A drill stopped dev1004's app (lab-a) and dev1005's (lab-b), then died; lab-c does not answer now. The
    // checkout has no secrets (nor the lab's CA): restarting containers needs neither, only the operator's switch would.
    rmSync(join(checkout.root, ".secrets"), { recursive: true, force: true });
    writeFileSync(
      join(checkout.root, ".verify-drill.json"),
      JSON.stringify({ lab: "consul-lab", stopped: ["consul-lab-dev1004-app", "consul-lab-dev1005-app"] }),
    );
    const { result } = run("repair", [], {}, (engines) => {
      engines["lab-c"] = undefined;
      for (const host of ["lab-a", "lab-b"] as HostName[]) {
        engines[host]!.containers = labContainerLinesOn(lab(), host);
        for (const line of engines[host]!.containers) if (line.Names.endsWith("-app")) line.State = "exited";
      }
    });
    const { status, stdout } = await result;
    expect(stdout).toContain("started consul-lab-dev1004-app again");
    expect(stdout).toContain("started consul-lab-dev1005-app again");
    expect(stdout).toContain("cannot repair the nodes on host lab-c");
    expect(status).toBe(1);
    const starts = logged().filter((call) => call.program === "docker" && call.argv[0] === "start");
    expect(starts.map((call) => `${engineOf(call)} ${call.argv.at(-1)}`).sort()).toEqual([
      "ssh://ops@lab-a.example.test consul-lab-dev1004-app",
      "ssh://ops@lab-b.example.test consul-lab-dev1005-app",
    ]);
  });
});
