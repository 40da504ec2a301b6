/** A drill interrupted in every way still leaves the lab as it found it. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LabStandIn } from "./tools/lab-stand-in";
import { verifyHarness } from "./tools/verify-harness";

jest.setTimeout(90_000);

const { checkout, withStandIn, verifyEnv } = verifyHarness();

describe("an interrupted drill", () => {
  /** Starts a drill and waits until it has stopped the app servers; resolves to the running child. */
  async function drillUntilAppsStopped(standIn: LabStandIn, env: Record<string, string> = {}) {
    const child = checkout.cli(
      "verify/main.ts",
      ["--drill"],
      verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "30", ...env }),
    );
    let stdout = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    // Listened for from the start: the child may end before a test awaits it.
    const exited = new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
    const deadline = Date.now() + 30_000;
    while (
      standIn.containers().filter((container) => container.State !== "running").length < 2 &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 50));
    return { child, exited, output: () => stdout };
  }
  const stopped = (standIn: LabStandIn) => standIn.containers().filter((container) => container.State !== "running");

  it("is finished by npm run verify -- --restore after the drill was killed", () =>
    withStandIn(async (standIn) => {
      const { child, exited } = await drillUntilAppsStopped(standIn);
      child.kill("SIGKILL");
      await exited;
      expect(
        stopped(standIn)
          .map((container) => container.Names)
          .sort(),
      ).toEqual(["consul-lab-dev1004-app", "consul-lab-dev1005-app"]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(true);
      // Plain verify, before the restore, says what the killed drill left changed and how to put it back.
      const plain = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
      expect(plain.stdout).toMatch(
        /verify: an interrupted drill left \.verify-drill\.json \(consul-lab-dev100[45]-app, consul-lab-dev100[45]-app changed\); `npm run verify -- --restore` puts it back/,
      );
      const restore = await checkout.script("verify", ["--restore"], verifyEnv(standIn));
      expect(restore.stdout).toContain("restored: started consul-lab-dev1004-app again");
      expect(restore.stdout).toContain("verify: put back everything the drill changed");
      expect(restore.stdout).toMatch(
        /verify: the lab is as it was before the drill: every fact holds again \(after \d+\.\d s\)/,
      );
      expect(restore.status).toBe(0);
      expect(stopped(standIn)).toEqual([]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
      // Nothing left to do: a second --restore says so.
      expect((await checkout.script("verify", ["--restore"], verifyEnv(standIn))).stdout).toContain(
        "nothing to restore",
      );
    }));

  it("says what has not settled after --restore instead of calling the lab as it was", () =>
    withStandIn(async (standIn) => {
      const { child, exited } = await drillUntilAppsStopped(standIn);
      child.kill("SIGKILL");
      await exited;
      // The watch's flag stuck on: the app servers come back, and the flag does not follow.
      standIn.timeline.flagNeverChanges = true;
      standIn.kv.set("web/test.hoge.dev.jp/maintenance/key", "on");
      const restore = await checkout.script("verify", ["--restore", "--settle", "1"], verifyEnv(standIn));
      expect(restore.stdout).toContain("verify: put back everything the drill changed");
      expect(restore.stdout).not.toContain("as it was");
      expect(restore.stdout).toMatch(/^FAIL {2}.*web\/test\.hoge\.dev\.jp\/maintenance\/key/m);
      expect(restore.stdout).toMatch(
        /verify: [1-9]\d* fact\(s\) still do not hold \d+\.\d s after the restore; the lab may still be settling/,
      );
      expect(restore.status).toBe(1);
      // What the drill changed is put back all the same.
      expect(stopped(standIn)).toEqual([]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
    }));

  it("is finished by npm run repair too", () =>
    withStandIn(async (standIn) => {
      const { child, exited } = await drillUntilAppsStopped(standIn);
      child.kill("SIGKILL");
      await exited;
      const repair = await checkout.script("repair", [], verifyEnv(standIn));
      expect(repair.stdout).toContain("an interrupted drill left .verify-drill.json");
      expect(repair.status).toBe(0);
      expect(stopped(standIn)).toEqual([]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
    }));

  it("restores on SIGHUP too, as when its terminal closes", () =>
    withStandIn(async (standIn) => {
      const hangUp = await drillUntilAppsStopped(standIn);
      hangUp.child.kill("SIGHUP");
      expect(await hangUp.exited).toBe(129);
      expect(stopped(standIn)).toEqual([]);
    }));

  it("restores all of it when Ctrl-C comes twice", () =>
    withStandIn(async (standIn) => {
      // Each start of the restore takes a second, so the second Ctrl-C comes while it runs.
      const { child, exited, output } = await drillUntilAppsStopped(standIn, { FAKE_DOCKER_START_MS: "1000" });
      child.kill("SIGINT");
      const seen = Date.now() + 10_000;
      while (!output().includes("drill: SIGINT; restoring the lab") && Date.now() < seen)
        await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(output()).toContain("still restoring the lab, please wait");
      expect(stopped(standIn)).toEqual([]);

      expect(stopped(standIn)).toEqual([]);
    }));

  it("keeps a container whose start succeeded but which is not running, so --restore can start it later", () =>
    withStandIn(async (standIn) => {
      standIn.exitsOnStart("consul-lab-dev1004-app");
      // Short deadlines: the steps after the failed start only wait for what cannot come.
      const env = verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" });
      const result = await checkout.script("verify", ["--drill"], env);
      expect(result.status).toBe(1);
      // The drill started it, and the restore too; neither took it for running.
      expect(result.stdout).toContain("restored: could not start consul-lab-dev1004-app: it did not stay running");
      expect(JSON.parse(checkout.file(".verify-drill.json")).stopped).toEqual(["consul-lab-dev1004-app"]);
      // Its program fixed, --restore starts it and forgets it.
      const containers = standIn.containers() as (ReturnType<LabStandIn["containers"]>[number] & {
        ExitsOnStart?: boolean;
      })[];
      delete containers.find((container) => container.Names === "consul-lab-dev1004-app")!.ExitsOnStart;
      standIn.replaceContainers(containers);
      const restore = await checkout.script("verify", ["--restore"], verifyEnv(standIn));
      expect(restore.stdout).toContain("restored: started consul-lab-dev1004-app again");
      expect(stopped(standIn)).toEqual([]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
    }));
});
