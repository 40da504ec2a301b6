/**
 * verify, the drill and repair act only on the containers this checkout deployed, as the cluster stack's Terraform
 * state records them (runtime/deployed-containers.ts): another project's container carrying the lab's labels is named
 * and left alone. Without a state, the labels decide, as before.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deployedContainerIds, isDeployed } from "../runtime/deployed-containers";
import type { ContainerLine, LabStandIn } from "./tools/lab-stand-in";
import { verifyHarness } from "./tools/verify-harness";

jest.setTimeout(120_000);

const { checkout, withStandIn, verifyEnv, readReport } = verifyHarness();

const idOf = (name: string) => createHash("sha256").update(name).digest("hex");

/** Gives every lab container an ID, records them as deployed, and adds an impostor with the lab's labels. */
function withImpostor(standIn: LabStandIn, running: boolean): void {
  // As Docker shows them once containers have IDs: a joined container's network mode names its namespace's ID.
  const joinedTo = (line: ContainerLine) => {
    const mode = line.HostConfig?.NetworkMode ?? "";
    return mode.startsWith("container:") ? { HostConfig: { NetworkMode: `container:${idOf(mode.slice(10))}` } } : {};
  };
  const lines = standIn.containers().map((line) => ({ ...line, Id: idOf(line.Names), ...joinedTo(line) }));
  const deployed = lines.filter((line) => line.Labels.includes("consul-lab.lab=consul-lab"));
  const impostor: ContainerLine & { Id: string } = {
    Names: "impostor-app",
    Labels: "consul-lab.lab=consul-lab,consul-lab.node=dev1004,consul-lab.role=app",
    State: running ? "running" : "exited",
    Id: "f".repeat(64),
    HostConfig: { NetworkMode: `container:${idOf("consul-lab-dev1004-net")}` },
    Started: 2,
  };
  // First in the engine's list, where a choice by label alone would take it for dev1004's app.
  standIn.replaceContainers([impostor, ...lines]);
  writeState(
    join(checkout.root, "state", "cluster.tfstate"),
    deployed.map((line) => line.Id),
  );
}

/** A Terraform state (format 4) whose docker_container instances have these IDs, and a resource of another type. */
function writeState(file: string, ids: string[]): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({
      version: 4,
      resources: [
        ...ids.map((id, index) => ({
          mode: "managed",
          type: "docker_container",
          name: `container_${index}`,
          instances: [{ attributes: { id, name: `c${index}` } }],
        })),
        { mode: "managed", type: "docker_volume", name: "data", instances: [{ attributes: { id: "e".repeat(64) } }] },
      ],
    }),
  );
}

const touched = (action: string) =>
  checkout
    .calls("docker")
    .filter((call) => call.argv[0] === action)
    .map((call) => call.argv.at(-1));

describe("containers the checkout did not deploy", () => {
  it("reads the deployed containers' IDs from the state, and none from what is not Docker IDs", () => {
    const file = join(checkout.root, "probe", "cluster.tfstate");
    writeState(file, ["a".repeat(64), "not-an-id"]);
    const deployed = deployedContainerIds(file);
    expect([...deployed!]).toEqual(["a".repeat(64)]);
    expect(isDeployed(deployed, "aaaaaaaaaaaa")).toBe(true);
    expect(isDeployed(deployed, "eeeeeeeeeeee")).toBe(false);
    writeState(file, ["not-an-id"]);
    expect(deployedContainerIds(file)).toBeUndefined();
    expect(deployedContainerIds(join(checkout.root, "probe", "none.tfstate"))).toBeUndefined();
    expect(isDeployed(undefined, "anything")).toBe(true);
  });

  it("are named and never stopped or started by the drill", () =>
    withStandIn(async (standIn) => {
      withImpostor(standIn, true);
      const result = await checkout.script(
        "verify",
        ["--drill"],
        verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "5" }),
      );
      expect(result.stdout).toContain(
        "verify: left alone: impostor-app (labelled as lab consul-lab's, but not among the containers the cluster stack's state records as deployed from this checkout)",
      );
      expect([...touched("stop"), ...touched("start")]).not.toContain("impostor-app");
      // The app servers the drill stopped were the lab's own.
      expect(touched("stop")).toEqual(expect.arrayContaining(["consul-lab-dev1004-app", "consul-lab-dev1005-app"]));
      expect(readReport().drill!.length).toBeGreaterThan(0);
    }));

  it("are named and never started by npm run repair", () =>
    withStandIn(async (standIn) => {
      withImpostor(standIn, false);
      const repair = await checkout.script("repair", [], verifyEnv(standIn));
      expect(repair.stdout).toContain("left alone: impostor-app");
      expect(touched("start")).not.toContain("impostor-app");
      expect(touched("restart")).not.toContain("impostor-app");
      expect(repair.status).toBe(0);
    }));
});
