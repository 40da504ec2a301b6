/** `npm run verify -- --drill` against the stand-in lab, which plays the real lab's timings scaled down. */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { timelineSummary } from "../verify/report-html";
import { secondsOf, verifyHarness } from "./tools/verify-harness";

jest.setTimeout(90_000);

const { checkout, withStandIn, verifyEnv, readReport } = verifyHarness();

describe("npm run verify -- --drill", () => {
  it("times the switch to the sorry server and back on the real lab's timings, and restores the lab", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn));
        if (process.env.DEBUG_VERIFY) console.log(result.stdout);
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        const report = readReport();
        const rows = report.drill!;
        expect(rows.filter((row) => !row.ok)).toEqual([]);
        const health = standIn.timeline.healthDelayMs / 1000;
        // The entry falls back at once (nginx's backup); the flag follows health; the upstream, quiescence later.
        expect(secondsOf(rows, "stop every", "the entry serves the sorry page")).toBeLessThan(health);
        expect(secondsOf(rows, "stop every", "web/test.hoge.dev.jp/maintenance/key reads on")).toBeGreaterThanOrEqual(
          health - 0.2,
        );
        expect(
          secondsOf(rows, "stop every", "every load balancer's upstream lists only the sorry server"),
        ).toBeGreaterThanOrEqual(health + standIn.timeline.upstreamDelayMs / 1000 - 0.2);
        expect(secondsOf(rows, "stop the leader", "another server becomes leader")).toBeGreaterThanOrEqual(
          standIn.timeline.electionDelayMs / 1000 - 0.2,
        );
        // Each condition is timed on its own: the flag turns off before the app page returns (the upstream's quiescence).
        expect(secondsOf(rows, "start the app", "web/test.hoge.dev.jp/maintenance/key reads off")).toBeLessThan(
          secondsOf(rows, "start the app", "the entry serves an app server's page"),
        );
        // A time, or (what held at the first look after an action that took a while) the action's own.
        for (const row of rows.filter((row) => row.seconds !== undefined))
          expect(row.seen).toMatch(
            /^(after \d+\.\d s ± \d\.\d|already held when the action returned \(within its \d+\.\d s\))/,
          );
        expect(rows.find((row) => row.expected === "the entry serves the sorry page")!.seen).toMatch(
          /the action took \d\.\d s$/,
        );
        expect(
          rows.find((row) => row.expected === "the entry answers every request with the app or the sorry page")!.seen,
        ).toMatch(
          /^0 of \d+ requests failed \(neither an app nor the sorry page, from the action being sent to the step's end\)$/,
        );
        expect(result.stdout).toMatch(/step\s+expected\s+seen\s+seconds\s+result/);
        // The page beside the report: one mark per request the drill made, and every step's rows under its timeline.
        const page = checkout.file("verify-report.html");
        const requests = report.timelines.reduce((sum: number, timeline: any) => sum + timeline.requests.length, 0);
        expect(requests).toBeGreaterThan(10);
        expect(page.match(/<circle class="request"/g)?.length).toBe(requests);
        expect(page.match(/<section class="step">/g)?.length).toBe(report.timelines.length);
        for (const timeline of report.timelines) expect(rows.some((row) => row.step === timeline.step)).toBe(true);
        if (process.env.CONSUL_LAB_KEEP_STAND_IN_REPORT)
          writeFileSync(process.env.CONSUL_LAB_KEEP_STAND_IN_REPORT, page);
        // The facts are asked again after the drill, and count.
        expect(report.factsAfterDrill.length).toBe(report.facts.length);
        // Everything stopped was started again, the flag follows health, the operator's switch is as it was, the state
        // file is gone, and nothing else was touched.
        expect(standIn.containers().filter((container) => container.State !== "running")).toEqual([]);
        expect(standIn.kv.get("web/test.hoge.dev.jp/maintenance/key")).toBe("off");
        expect(standIn.kv.has("web/test.hoge.dev.jp/maintenance/operator")).toBe(false);
        expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
        const touched = checkout.calls("docker").filter((call) => ["stop", "start", "exec"].includes(call.argv[0]));
        expect(touched.length).toBeGreaterThan(0);
        expect(touched.every((call) => call.argv[1].startsWith("consul-lab-"))).toBe(true);
      },
      // consul-template's quiescence at 6 s full scale (within its 2-10 s): the app page returns well after the flag
      // turns off, so the two rows stay apart on a loaded machine too.
      (standIn) => (standIn.timeline.upstreamDelayMs = 600),
    ));

  it("fails a step that never completes at its deadline, and still restores the lab", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script(
          "verify",
          ["--drill"],
          verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
        );
        expect(result.status).toBe(1);
        const rows = readReport().drill!;
        expect(rows.find((row) => row.expected.endsWith("reads on"))).toMatchObject({
          ok: false,
          seen: "not by the deadline (last: flag off)",
        });
        expect(standIn.containers().filter((container) => container.State !== "running")).toEqual([]);
      },
      (standIn) => (standIn.timeline.flagNeverChanges = true),
    ));

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("restores every container it stopped on %s, and reports the rows so far as interrupted", (signal, code) =>
    withStandIn(async (standIn) => {
      // A passing report of an earlier run, which this run must replace.
      writeFileSync(join(checkout.root, "verify-report.json"), JSON.stringify({ passed: true, earlier: true }));
      const child = checkout.cli(
        "verify/main.ts",
        ["--drill"],
        verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "30" }),
      );
      let stdout = "";
      child.stdout!.on("data", (chunk) => (stdout += chunk));
      // Once the app servers are down, interrupt.
      const deadline = Date.now() + 30_000;
      while (!standIn.containers().some((container) => container.State !== "running") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill(signal);
      const exit = await new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
      expect(exit).toBe(code);
      expect(stdout).toContain(`drill: ${signal}; restoring the lab`);
      expect(stdout).toContain("restored: started consul-lab-dev1004-app again");
      expect(standIn.containers().filter((container) => container.State !== "running")).toEqual([]);
      const report = readReport() as any;
      expect(report).toMatchObject({ passed: false, interrupted: signal });
      expect(report.earlier).toBeUndefined();
      expect(report.restored).toContain("started consul-lab-dev1004-app again");
      // The step cut short says so, never "not by the deadline".
      for (const row of report.drill) expect(row.seen).not.toMatch(/^not by the deadline/);
      expect(report.drill.some((row: any) => /^interrupted \(last: /.test(row.seen))).toBe(true);
    }),
  );

  it("keeps asking the entry while a docker stop takes 1.5 s, and says what already held when it returned", () =>
    withStandIn(async (standIn) => {
      // The app servers are down at once; Docker returns 1.5 s later, by when their checks have failed (1 s).
      const result = await checkout.script(
        "verify",
        ["--drill"],
        verifyEnv(standIn, { FAKE_DOCKER_STOP_MS: "0", FAKE_DOCKER_STOP_RETURN_MS: "1500" }),
      );
      const report = readReport();
      const rows = report.drill!;
      const sorry = rows.find((row) => row.expected === "the entry serves the sorry page")!;
      // At least the stop's own 1.5 s; more on a loaded machine. Its moment lies within the action, never before 0.
      expect(sorry.seen).toMatch(
        /^already held when the action returned \(within its (1\.[5-9]|[2-9]\.\d) s\); the action took \1 s$/,
      );
      expect(sorry.seconds).toBeGreaterThan(0);
      const stop = report.timelines!.find((timeline: { step: string }) => timeline.step.startsWith("stop every"))!;
      const summary = timelineSummary(stop);
      expect(summary).toMatch(/ at 0 s \(returned at (1\.[5-9]|[2-9]\.\d) s\), /);
      expect(summary).toMatch(/, sorry from \d+\.\d s, /);
      expect(summary).not.toMatch(/-\d/);
      expect(
        rows.find((row) => row.step.startsWith("stop every") && row.expected.startsWith("the entry answers")),
      ).toMatchObject({
        ok: true,
      });
      expect(result.status).toBe(0);
    }));
});
