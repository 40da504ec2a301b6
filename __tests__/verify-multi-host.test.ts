/**
 * `npm run verify -- --drill` on a lab over three hosts (examples/three-hosts.yaml), against the stand-in playing the
 * publish node's remote host (reached through the fake ssh's forwards) with one fake engine per host: every fact holds,
 * and the drill loses a host (every container of it stopped, on its own engine) while the cluster keeps a leader and
 * the site keeps answering, then brings it back.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { hostToLose } from "../verify/drill";
import { labOf } from "./tools/helpers";
import type { LabStandIn } from "./tools/lab-stand-in";
import { factLines, verifyHarness } from "./tools/verify-harness";

jest.setTimeout(120_000);

const { checkout, state, verifyEnv, readReport, withStandIn } = verifyHarness();
// The example, in place of the article's lab the harness starts from (its ports are chosen in its beforeAll).
state.input = parse(readFileSync("examples/three-hosts.yaml", "utf8"));

const REMOTE_LOOPBACK = "127.0.0.2";

const withRemoteStandIn = <T>(script: (standIn: LabStandIn) => Promise<T>) =>
  withStandIn(script, undefined, REMOTE_LOOPBACK);

type Logged = { program: string; argv: string[]; docker?: Record<string, string> };

describe("npm run verify on a lab over three hosts", () => {
  it("chooses a host to lose that leaves the publish node, a majority of servers and a load balancer", () => {
    expect(hostToLose(labOf(state.input))).toBe("lab-b");
    // With lab-b holding two servers, losing it would lose the majority: lab-c is lost instead.
    const input = structuredClone(state.input);
    input.nodes[0].host = "lab-a";
    input.nodes[1].host = "lab-b";
    input.nodes[2].host = "lab-b";
    expect(hostToLose(labOf(input))).toBe("lab-c");
    // With every app and the sorry server on lab-b and lab-c, losing either would leave a page on the other; with
    // them all on one host, that host is never the one lost.
    const pages = structuredClone(state.input);
    for (const node of pages.nodes.slice(3)) node.host = "lab-b";
    expect(hostToLose(labOf(pages))).toBe("lab-c");
  });

  it("passes every fact and every drill step, losing lab-b on its own engine and bringing it back", () =>
    withRemoteStandIn(async (standIn) => {
      const result = await checkout.script(
        "verify",
        ["--drill"],
        verifyEnv(standIn, { DOCKER_HOST: "unix:///the/users/own.sock", FAKE_SSH_REMOTE_ADDRESS: REMOTE_LOOPBACK }),
      );
      expect(factLines(result.stdout).filter((line) => line.startsWith("FAIL"))).toEqual([]);
      const rows = readReport().drill!;
      expect(rows.filter((row) => !row.ok)).toEqual([]);
      expect(result.status).toBe(0);
      const lost = rows.filter((row) => row.step === "lose host lab-b (dev1002, dev1005)").map((row) => row.expected);
      expect(lost).toEqual(["the cluster has a leader on another host", "the entry keeps answering with lab-b down"]);
      expect(rows.filter((row) => row.step === "bring lab-b back").map((row) => row.expected)).toEqual([
        "every container on lab-b runs",
        "dev1002 itself knows a leader",
        "autopilot reports dev1002 healthy and a voter, after seeing it go",
      ]);
      // lab-b's containers were stopped on lab-b's engine, what joined a namespace before the namespace.
      const calls = checkout.calls() as unknown as Logged[];
      const stops = calls
        .filter((call) => call.program === "docker" && call.argv[0] === "stop")
        .filter((call) => call.docker?.DOCKER_HOST === "ssh://ops@lab-b.example.test")
        .map((call) => call.argv.at(-1));
      const namespaces = stops.filter((name) => name!.endsWith("-net"));
      expect(namespaces).toEqual(["consul-lab-dev1002-net", "consul-lab-dev1005-net"]);
      expect(stops.indexOf("consul-lab-dev1002-net")).toBeGreaterThan(stops.indexOf("consul-lab-dev1002"));
      // Nothing went to the user's own engine, and the lab is whole again.
      expect(calls.filter((call) => call.program === "docker" && call.docker?.DOCKER_HOST?.includes("users"))).toEqual(
        [],
      );
      expect(standIn.containers().filter((line) => line.State !== "running")).toEqual([]);
    }));

  it("fails bringing lab-b back when its returned server never learns a leader, though raft still lists it", () =>
    withRemoteStandIn(async (standIn) => {
      standIn.timeline.neverRejoins = true;
      const result = await checkout.script(
        "verify",
        ["--drill"],
        verifyEnv(standIn, {
          DOCKER_HOST: "unix:///the/users/own.sock",
          FAKE_SSH_REMOTE_ADDRESS: REMOTE_LOOPBACK,
          CONSUL_LAB_DRILL_DEADLINE_SECONDS: "3",
        }),
      );
      expect(result.status).toBe(1);
      const back = readReport().drill!.filter((row) => row.step === "bring lab-b back");
      expect(back).toEqual([
        expect.objectContaining({ expected: "every container on lab-b runs", ok: true }),
        expect.objectContaining({
          expected: "dev1002 itself knows a leader",
          seen: "not by the deadline (last: no leader known)",
          ok: false,
        }),
        expect.objectContaining({
          expected: "autopilot reports dev1002 healthy and a voter, after seeing it go",
          seen: expect.stringMatching(/^not by the deadline \(last: unhealthy \(serf alive, last contact 10s\)\)$/),
          ok: false,
        }),
      ]);
    }));
});
