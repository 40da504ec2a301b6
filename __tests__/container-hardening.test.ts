/**
 * Every container of several labs keeps only its role's privileges (constructs/container-hardening.ts): the table
 * decides, the synthesized JSON follows it, and `npm run test:engine` (hardening.test.ts) runs each role's program
 * with exactly these settings.
 */
import { Testing } from "cdktf";
import { CONTAINER_HARDENING, type HardenedRole } from "../constructs/container-hardening";
import { ClusterStack } from "../stacks";
import { Lab, MEMORY_FLOORS_MIB } from "../topology";
import { generatedTopology } from "./tools/generated-topology";
import { articleInput, labOf, problemsOf, exampleLab } from "./tools/helpers";

const LABS: Record<string, () => Lab> = {
  "the article's lab": () => labOf(),
  "examples/shop-lab.yaml": () => exampleLab("shop-lab.yaml"),
  "examples/three-hosts.yaml": () => exampleLab("three-hosts.yaml"),
  "a generated 60-node lab": () => labOf(generatedTopology(60)),
  'an open lab (security "none")': () => labOf({ ...articleInput(), security: "none" }),
};

const containersOf = (lab: Lab): any[] =>
  Object.values(
    JSON.parse(Testing.synth(new ClusterStack(Testing.app(), "cluster", { lab }))).resource.docker_container,
  );
const roleOf = (container: any): HardenedRole =>
  container.labels.find((label: any) => label.label === "consul-lab.role").value;

describe.each(Object.entries(LABS))("every container of %s", (_name, labFor) => {
  const lab = labFor();
  const containers = containersOf(lab);

  it("drops every capability but its role's, and gains none through setuid binaries", () => {
    const seen = containers.map((container) => ({
      name: container.name,
      capabilities: container.capabilities,
      security_opts: container.security_opts,
    }));
    const wanted = containers.map((container) => {
      const keep = CONTAINER_HARDENING[roleOf(container)].capabilities;
      return {
        name: container.name,
        capabilities: { drop: ["ALL"], ...(keep.length > 0 ? { add: keep } : {}) },
        security_opts: ["no-new-privileges:true"],
      };
    });
    expect(seen).toEqual(wanted);
    expect(containers.length).toBeGreaterThan(lab.nodes.length * 3);
  });

  it("has its role's memory ceiling, with no swap beyond it", () => {
    const limits = lab.topology.containers.memoryMb;
    const wrong = containers.filter((container) => {
      const limit = limits[CONTAINER_HARDENING[roleOf(container)].memory];
      return container.memory !== limit || container.memory_swap !== limit;
    });
    expect(wrong.map((container) => container.name)).toEqual([]);
  });

  it("has a read-only root exactly where the table says nothing is written (the namespaces)", () => {
    const readOnly = containers.filter((container) => container.read_only).map(roleOf);
    expect([...new Set(readOnly)]).toEqual(["netns"]);
    expect(readOnly).toHaveLength(lab.nodes.length);
  });

  it("writes capabilities as the engine stores them, so the read-back is exact", () => {
    const names = containers.flatMap((container) => [
      ...(container.capabilities.add ?? []),
      ...container.capabilities.drop,
    ]);
    expect(names.filter((name) => name !== "ALL" && !/^CAP_[A-Z_]+$/.test(name))).toEqual([]);
  });
});

describe("a memory limit that changes", () => {
  const clusterOf = (lab: Lab) => JSON.parse(Testing.synth(new ClusterStack(Testing.app(), "cluster", { lab })));

  it("replaces its containers through the trigger of its class, as the engine's read-back of memory is ignored", () => {
    const cluster = clusterOf(labOf());
    const triggers = cluster.resource.terraform_data;
    for (const container of Object.values<any>(cluster.resource.docker_container)) {
      const memoryClass = CONTAINER_HARDENING[roleOf(container)].memory;
      const trigger = Object.entries<any>(triggers).find(([id]) => id.startsWith(`memory-limit-${memoryClass}`))!;
      expect(container.lifecycle.replace_triggered_by).toContain(`terraform_data.${trigger[0]}`);
      expect(trigger[1].input).toEqual({ memoryMb: container.memory, memorySwapMb: container.memory });
      expect(container.lifecycle.ignore_changes).toEqual(expect.arrayContaining(["memory", "memory_swap"]));
    }
  });

  it("changes only its own class's trigger", () => {
    const before = clusterOf(labOf()).resource.terraform_data;
    const after = clusterOf(labOf({ ...articleInput(), containers: { memoryMb: { dns: 48 } } })).resource
      .terraform_data;
    const changed = Object.keys(before).filter((id) => JSON.stringify(before[id]) !== JSON.stringify(after[id]));
    expect(changed).toEqual([expect.stringMatching(/^memory-limit-dns/)]);
  });
});

describe("containers.memoryMb", () => {
  it("takes the topology's limits", () => {
    const lab = labOf({ ...articleInput(), containers: { memoryMb: { agent: 512, dns: 12 } } });
    const agent = containersOf(lab).find((container) => container.name === "consul-lab-dev1001");
    expect(agent).toMatchObject({ memory: 512, memory_swap: 512 });
  });

  it.each([
    [
      127,
      "containers.memoryMb.agent: a memory limit must be at least 128 MiB: a Consul agent uses up to 87 MB as a client (HashiCorp's measure), more as a server",
    ],
    [1.5, "containers.memoryMb.agent: a memory limit must be a whole number of MiB"],
    [70000, "containers.memoryMb.agent: a memory limit must be at most 65536 MiB"],
  ])("refuses %s MiB, naming the field and the rule", (agent, problem) => {
    expect(problemsOf({ ...articleInput(), containers: { memoryMb: { agent } } })).toEqual([problem]);
  });

  it.each(Object.entries(MEMORY_FLOORS_MIB))("keeps %s at its floor or above", (kind, floor) => {
    const at = (mib: number) => problemsOf({ ...articleInput(), containers: { memoryMb: { [kind]: mib } } });
    expect(at(floor.mib)).toEqual([]);
    expect(at(floor.mib - 1)).toEqual([
      `containers.memoryMb.${kind}: a memory limit must be at least ${floor.mib} MiB: ${floor.why}`,
    ]);
  });
});
