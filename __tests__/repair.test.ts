/**
 * `npm run repair` against the fake docker, which follows the engine's rules for `container:` network modes (a start
 * joins the namespace's current namespace and fails while it is stopped): the same scenarios run on a real engine in
 * `npm run test:engine`.
 */
import { assessPods, InspectedContainer } from "../runtime/node-pods";
import { labOf } from "./tools/helpers";
import { HEALTHY_DOCKER, LabCheckout } from "./tools/lab-checkout";
import { ContainerLine, labContainerLines } from "./tools/lab-stand-in";

jest.setTimeout(60_000);

const lab = labOf();
const SOMEONE_ELSES = {
  Names: "someone-elses-app",
  Labels: "consul-lab.lab=other,consul-lab.node=dev1004,consul-lab.role=app",
  State: "exited",
};

function checkoutWith(change: (containers: ContainerLine[]) => void): LabCheckout {
  const checkout = new LabCheckout();
  const containers = labContainerLines(lab);
  change(containers);
  checkout.setDocker({ ...HEALTHY_DOCKER, containers: [...containers, SOMEONE_ELSES] });
  return checkout;
}

const named = (containers: ContainerLine[], name: string) => containers.find((container) => container.Names === name)!;
const dockerActions = (checkout: LabCheckout) =>
  checkout
    .calls("docker")
    .map((call) => call.argv.join(" "))
    .filter((argv) => /^(start|stop|restart) /.test(argv));
/** The lab's containers (not someone else's) after the run. */
const finalContainers = (checkout: LabCheckout): ContainerLine[] =>
  (JSON.parse(checkout.file(".fake-docker.json")).containers as ContainerLine[]).filter((container) =>
    container.Labels.startsWith("consul-lab.lab=consul-lab,"),
  );

describe("npm run repair", () => {
  it("leaves a whole lab untouched and says so", async () => {
    const checkout = checkoutWith(() => {});
    const result = await checkout.script("repair");
    expect(result.stdout).toContain("all 6 nodes are whole; nothing to do");
    expect(result.status).toBe(0);
    expect(dockerActions(checkout)).toEqual([]);
  });

  it("restarts every container a restarted namespace stranded, into the new namespace", async () => {
    const checkout = checkoutWith((containers) => (named(containers, "consul-lab-dev1004-net").Started = 9));
    const result = await checkout.script("repair");
    expect(dockerActions(checkout).sort()).toEqual([
      "restart --time 10 consul-lab-dev1004",
      "restart --time 10 consul-lab-dev1004-app",
      "restart --time 10 consul-lab-dev1004-dns",
    ]);
    expect(result.stdout).toContain("restarted consul-lab-dev1004-app into its node's namespace");
    expect(result.stdout).toContain("all 6 nodes are whole again");
    expect(result.status).toBe(0);
  });

  it("after a daemon restart left containers exited, starts each namespace before what joins it", async () => {
    const checkout = checkoutWith((containers) => {
      for (const name of ["consul-lab-dev1002-net", "consul-lab-dev1002", "consul-lab-dev1002-load-balancer"])
        named(containers, name).State = "exited";
      named(containers, "consul-lab-dev1005-dns").State = "exited";
    });
    const result = await checkout.script("repair");
    const actions = dockerActions(checkout);
    expect(actions[0]).toBe("start consul-lab-dev1002-net");
    // The dnsmasq of dev1002 kept running in the old namespace: stranded, so restarted.
    expect(actions.slice(1).sort()).toEqual([
      "restart --time 10 consul-lab-dev1002-dns",
      "start consul-lab-dev1002",
      "start consul-lab-dev1002-load-balancer",
      "start consul-lab-dev1005-dns",
    ]);
    expect(result.status).toBe(0);
    expect(
      assessPods(inspectedFrom(finalContainers(checkout))).every((pod) => pod.joined.every((c) => c.state === "whole")),
    ).toBe(true);
  });

  it("is idempotent: a second run finds nothing to do", async () => {
    const checkout = checkoutWith((containers) => (named(containers, "consul-lab-dev1001-net").State = "exited"));
    expect((await checkout.script("repair")).status).toBe(0);
    expect(dockerActions(checkout)).not.toEqual([]);
    // Each run records its own calls.
    const again = await checkout.script("repair");
    expect(again.stdout).toContain("nothing to do");
    expect(dockerActions(checkout)).toEqual([]);
  });

  it("never touches another lab's container, even one labelled with the same node", async () => {
    const checkout = checkoutWith((containers) => (named(containers, "consul-lab-dev1004-net").State = "exited"));
    await checkout.script("repair");
    expect(dockerActions(checkout).join("\n")).not.toContain("someone-elses-app");
    const all = JSON.parse(checkout.file(".fake-docker.json")).containers as ContainerLine[];
    expect(all.find((container) => container.Names === "someone-elses-app")!.State).toBe("exited");
  });

  it("exits 1 and names what is still broken when Docker refuses a start", async () => {
    const checkout = checkoutWith((containers) => (named(containers, "consul-lab-dev1006-net").State = "exited"));
    const result = await checkout.script("repair", [], { FAKE_FAIL: "docker:start" });
    expect(result.stdout).toContain("docker start consul-lab-dev1006-net failed: docker start failed on cue");
    expect(result.stdout).toMatch(
      /dev1006 is not whole: consul-lab-dev1006-net is stopped, consul-lab-dev1006 is stranded/,
    );
    expect(result.stdout).toContain("1 of 6 nodes are not whole");
    expect(result.status).toBe(1);
  });

  it("exits 1 with the way forward when the lab has no container at all", async () => {
    const checkout = new LabCheckout();
    const result = await checkout.script("repair");
    expect(result.stdout).toContain("no container of lab consul-lab was found");
    expect(result.stdout).toContain("npm run deploy");
    expect(result.status).toBe(1);
  });
});

/** The fake's lines as `docker inspect` shows them, for the pure assessment. */
function inspectedFrom(containers: ContainerLine[]): InspectedContainer[] {
  return containers.map((container) => ({
    Id: container.Names,
    Name: `/${container.Names}`,
    State: {
      Running: container.State === "running",
      Status: container.State,
      StartedAt: new Date(Date.UTC(2026, 0, 1) + (container.Started ?? 0) * 1000).toISOString(),
    },
    HostConfig: { NetworkMode: container.HostConfig?.NetworkMode ?? "bridge" },
    Config: { Labels: Object.fromEntries(container.Labels.split(",").map((pair) => pair.split("="))) },
  }));
}

describe("a node's pod, as inspect shows it", () => {
  const base = (name: string, role: string, startedAt: string, extra: Partial<InspectedContainer> = {}) => ({
    Id: `id-${name}`,
    Name: `/${name}`,
    State: { Running: true, Status: "running", StartedAt: startedAt },
    HostConfig: { NetworkMode: role === "netns" ? "bridge" : "container:id-n-net" },
    Config: { Labels: { "consul-lab.lab": "l", "consul-lab.node": "n", "consul-lab.role": role } },
    ...extra,
  });

  it("orders starts by Docker's nanoseconds, which Date.parse would round away", () => {
    const [pod] = assessPods([
      base("n-net", "netns", "2026-11-29T07:02:53.999217787Z"),
      base("n", "agent", "2026-11-29T07:02:53.999217000Z"),
    ]);
    expect(pod.joined).toEqual([{ name: "n", role: "agent", state: "stranded" }]);
  });

  it("calls a container joined to another container than the node's namespace detached", () => {
    const [pod] = assessPods([
      base("n-net", "netns", "2026-11-29T07:00:00Z"),
      base("n", "agent", "2026-11-29T07:00:01Z", { HostConfig: { NetworkMode: "container:id-old" } }),
    ]);
    expect(pod.joined[0].state).toBe("detached");
  });
});
