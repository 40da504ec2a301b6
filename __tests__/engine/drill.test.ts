/**
 * `npm run verify -- --drill` on real containers: the lab's 24 containers on the private engine, created with the
 * synthesized settings, and the stand-in lab (tools/lab-stand-in.ts) playing Consul and what runs inside them, its
 * container states read from the engine. verify's own Docker calls (ps, inspect, stop, start) reach the real engine;
 * only `docker exec` is answered by the stand-in (exec-via-stand-in/docker). The drill passes and leaves every
 * container running, and a SIGTERM in the middle of it puts back what it stopped on the engine.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { LabCheckout } from "../tools/lab-checkout";
import { labOf } from "../tools/helpers";
import { LabStandIn } from "../tools/lab-stand-in";
import { deployContainers, docker, removeLab, synthesizedCluster, uniqueLab } from "./engine";

jest.setTimeout(180_000);

let lab: Awaited<ReturnType<typeof uniqueLab>>;
let checkout: LabCheckout;
let standIn: LabStandIn;
const realDocker = spawnSync("bash", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim();

beforeAll(async () => {
  lab = await uniqueLab();
  // An open lab: the stand-in's API is plain HTTP, and no secrets are needed.
  const input = { ...lab.input, security: "none" as const };
  writeFileSync(lab.topologyFile, JSON.stringify(input));
  const cluster = synthesizedCluster(lab.topologyFile);
  // The published ports are the stand-in's, on this machine's loopback; everything else is as synthesized.
  for (const resource of Object.values(cluster.container)) delete resource.ports;
  deployContainers(cluster);
  checkout = new LabCheckout();
  standIn = new LabStandIn(labOf(input), undefined, { env: process.env });
  await standIn.start();
}, 180_000);

afterAll(async () => {
  try {
    await standIn?.stop();
  } finally {
    if (lab) removeLab(lab.name);
  }
});

const env = () => ({
  CONSUL_LAB_TOPOLOGY: lab.topologyFile,
  PATH: `${join(__dirname, "exec-via-stand-in")}:${process.env.PATH}`,
  CONSUL_LAB_REAL_DOCKER: realDocker,
  FAKE_LAB_URL: standIn.controlUrl,
  CONSUL_LAB_DRILL_DEADLINE_SECONDS: "8",
  CONSUL_LAB_DRILL_WINDOW_SECONDS: "0.5",
});

const stopped = () =>
  docker([
    "ps",
    "--all",
    "--filter",
    `label=consul-lab.lab=${lab.name}`,
    "--filter",
    "status=exited",
    "--format",
    "{{.Names}}",
  ])
    .stdout.split("\n")
    .filter(Boolean);

describe("the drill on real containers", () => {
  it("passes every step, stopping and starting the lab's real containers, and leaves them all running", async () => {
    const result = await checkout.script("verify", ["--drill", "--settle", "5"], env());
    const report = JSON.parse(checkout.file("verify-report.json"));
    expect(report.facts.filter((fact: { ok: boolean }) => !fact.ok)).toEqual([]);
    expect(report.drill.filter((row: { ok: boolean }) => !row.ok)).toEqual([]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("every node's containers run, joined to its namespace: 24 containers on 6 nodes");
    expect(stopped()).toEqual([]);
  });

  it("puts back what it stopped on the engine when it gets SIGTERM in the middle", async () => {
    const child = checkout.cli("verify/main.ts", ["--drill", "--settle", "5"], env());
    let output = "";
    child.stdout!.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const statePath = join(checkout.root, ".verify-drill.json");
    try {
      // Once the engine shows the app servers stopped by the drill's first step, the drill gets SIGTERM.
      const apps = [`${lab.name}-dev1004-app`, `${lab.name}-dev1005-app`].sort();
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && stopped().filter((name) => apps.includes(name)).length < apps.length)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(
        stopped()
          .filter((name) => name.endsWith("-app"))
          .sort(),
      ).toEqual(apps);
      expect(JSON.parse(readFileSync(statePath, "utf8")).stopped.sort()).toEqual(apps);
      child.kill("SIGTERM");
      expect(await exited).toBe(143);
    } finally {
      child.kill("SIGKILL");
    }
    expect(output).toContain("drill: SIGTERM; restoring the lab");
    expect(output).toContain(`restored: started ${lab.name}-dev1004-app again`);
    expect(stopped()).toEqual([]);
    expect(existsSync(statePath)).toBe(false);
  });
});
