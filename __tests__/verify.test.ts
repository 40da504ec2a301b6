/**
 * `npm run verify` and `npm run verify -- --drill`, run end to end against a stand-in lab on loopback (fake Consul
 * API, real nginx and dnsmasq, the fake docker), whose timeline the tests script.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { labTimings, realHostExpectations } from "../cli/verify/lab-timings";
import { PROJECT_ROOT } from "./synth";
import { join } from "node:path";
import { articleInput, labOf } from "./helpers";
import { LabCheckout } from "./tools/lab-checkout";
import { LabStandIn } from "./tools/lab-stand-in";
import { freeLoopbackPort } from "./tools/ports";

jest.setTimeout(90_000);

const checkout = new LabCheckout();
let topologyFile: string;
let input: ReturnType<typeof articleInput>;

beforeAll(async () => {
  input = articleInput();
  input.publish = {
    httpPort: await freeLoopbackPort(),
    dnsPort: await freeLoopbackPort(),
    entryPort: await freeLoopbackPort(),
  };
  topologyFile = join(checkout.root, "lab.json");
  writeFileSync(topologyFile, JSON.stringify(input));
  expect((await checkout.script("secrets", [], { CONSUL_LAB_TOPOLOGY: topologyFile })).status).toBe(0);
});

async function withStandIn<T>(
  script: (standIn: LabStandIn) => Promise<T>,
  setup?: (standIn: LabStandIn) => void,
): Promise<T> {
  const standIn = new LabStandIn(labOf(input));
  setup?.(standIn);
  await standIn.start();
  try {
    return await script(standIn);
  } finally {
    await standIn.stop();
  }
}

const verifyEnv = (standIn: LabStandIn, extra: Record<string, string> = {}) => ({
  CONSUL_LAB_TOPOLOGY: topologyFile,
  FAKE_DOCKER_STATE: standIn.dockerState,
  FAKE_LAB_URL: `http://127.0.0.1:${input.publish!.httpPort}`,
  FAKE_DOCKER_STOP_MS: String(standIn.timeline.dockerStopMs),
  CONSUL_LAB_DRILL_DEADLINE_SECONDS: "8",
  CONSUL_LAB_DRILL_WINDOW_SECONDS: "0.5",
  ...extra,
});

interface DrillRowSeen {
  step: string;
  expected: string;
  seconds?: number;
  ok: boolean;
  seen: string;
}

const secondsOf = (rows: DrillRowSeen[], step: string, expected: string): number =>
  rows.find((row) => row.step.startsWith(step) && row.expected === expected)!.seconds!;

const factLines = (stdout: string) => stdout.split("\n").filter((line) => /^(ok {2}|FAIL) {2}/.test(line));

describe("npm run verify", () => {
  it("passes on a healthy lab, one line per fact with the value seen, and writes the report", () =>
    withStandIn(async (standIn) => {
      // A drill's variable means nothing to a plain verify, even when it is not a number.
      const result = await checkout.npm("verify", [], verifyEnv(standIn, { CONSUL_LAB_DRILL_WINDOW_SECONDS: "abc" }));
      expect(factLines(result.stdout).filter((line) => line.startsWith("FAIL"))).toEqual([]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(
        "ok    every node's containers run, joined to its namespace: 24 containers on 6 nodes",
      );
      expect(result.stdout).toContain("ok    a leader is elected: 10.0.1.1:8300");
      expect(result.stdout).toContain(
        "ok    the raft peers are the servers (dev1001, dev1002, dev1003), all voters: dev1001, dev1002, dev1003",
      );
      expect(result.stdout).toContain("ok    ACLs refuse an anonymous write: HTTP 403");
      expect(result.stdout).toMatch(
        /ok {4}DNS udp 127\.0\.0\.1:\d+: lb\.nginx\.service\.consul -> 10\.0\.1\.2, 10\.0\.1\.3: 10\.0\.1\.2, 10\.0\.1\.3/,
      );
      expect(result.stdout).toMatch(/ok {4}DNS tcp .*test_hoge_dev_jp\.query\.consul -> 10\.0\.1\.4, 10\.0\.1\.5/);
      expect(result.stdout).toContain(
        "ok    DNS inside dev1001 (its dnsmasq): dev1001.node.consul -> 10.0.1.1: 10.0.1.1",
      );
      expect(result.stdout).toMatch(
        /ok {4}http:\/\/127\.0\.0\.1:\d+\/ answers 200 with an app server's page: HTTP 200, app page from dev1004/,
      );
      const report = JSON.parse(checkout.file("verify-report.json"));
      expect(report).toMatchObject({ lab: "consul-lab", passed: true });
      expect(report.facts.length).toBe(factLines(result.stdout).length);
      // Read-only: nothing was stopped or started.
      expect(checkout.calls("docker").filter((call) => ["stop", "start"].includes(call.argv[0]))).toEqual([]);
    }));

  it("names each failing fact with its cause", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const failing = factLines(result.stdout).filter((line) => line.startsWith("FAIL"));
        expect(failing).toEqual(
          expect.arrayContaining([
            "FAIL  the raft peers are the servers (dev1001, dev1002, dev1003), all voters: dev1001, dev1002",
            "FAIL  ACLs refuse an anonymous write: HTTP 200",
            expect.stringMatching(
              /^FAIL {2}test_hoge_dev_jp: 3 instance\(s\) registered, every check passing: web on dev1005: test_hoge_dev_jp answers HTTP is critical \(connection refused\)$/,
            ),
          ]),
        );
        expect(JSON.parse(checkout.file("verify-report.json")).passed).toBe(false);
        expect(result.stdout).toMatch(/verify: \d+ check\(s\) failed/);
      },
      (standIn) => {
        standIn.raftServers = ["dev1001", "dev1002"];
        standIn.timeline.anonymousWrites = true;
        standIn.setRunning("consul-lab-dev1005-app", false);
      },
    ));

  it("reports a node stranded by a namespace restart, and names npm run repair", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        expect(factLines(result.stdout)).toContain(
          "FAIL  every node's containers run, joined to its namespace: consul-lab-dev1004 is stranded (its namespace restarted); " +
            "consul-lab-dev1004-app is stranded (its namespace restarted); consul-lab-dev1004-dns is stranded (its namespace restarted); " +
            "`npm run repair` makes the nodes whole",
        );
      },
      (standIn) => standIn.restartNamespace("dev1004"),
    ));

  it("asks a lab that is not right yet again until it settles, then passes", () =>
    withStandIn(
      async (standIn) => {
        const child = checkout.cli("cli/verify.ts", ["--settle=20"], verifyEnv(standIn));
        let stdout = "";
        // The app server comes back once verify has seen it down and said it waits.
        child.stdout!.on("data", (chunk) => {
          stdout += chunk;
          if (stdout.includes("waiting for the lab to settle")) standIn.setRunning("consul-lab-dev1005-app", true);
        });
        const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
        expect(stdout).toMatch(/waiting for the lab to settle: \d+ s \([1-9]\d* fact\(s\) not right yet\)/);
        expect(status).toBe(0);
        expect(stdout).toContain("ok    test_hoge_dev_jp: 3 instance(s) registered, every check passing");
      },
      (standIn) => standIn.setRunning("consul-lab-dev1005-app", false),
    ));

  it.each([
    [["--settle", "soon"], {}, '--settle takes a number of seconds (0 or more), not "soon"'],
    [["--settle="], {}, '--settle takes a number of seconds (0 or more), not ""'],
    [["--settle", "1e3"], {}, '--settle takes a number of seconds (0 or more), not "1e3"'],
    [["--settle"], {}, "--settle needs a number of seconds (0 or more)"],
    [["--dril"], {}, 'unknown argument "--dril"; verify takes --drill, --settle SECONDS and --restore (see --help)'],
    [["--restore", "--drill"], {}, "--restore only puts the lab back; run it alone, then verify again"],
    [
      ["--drill"],
      { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "0" },
      'CONSUL_LAB_DRILL_DEADLINE_SECONDS takes a number of seconds (above 0), not "0"',
    ],
    [
      ["--drill"],
      { CONSUL_LAB_DRILL_WINDOW_SECONDS: "ten" },
      'CONSUL_LAB_DRILL_WINDOW_SECONDS takes a number of seconds (above 0), not "ten"',
    ],
  ])("refuses %j %j before it asks or changes anything", async (args, env, message) => {
    const result = await checkout.script("verify", args, { CONSUL_LAB_TOPOLOGY: topologyFile, ...env });
    expect(result.stderr).toBe(`consul-lab: ${message}\n`);
    expect(result.status).toBe(2);
    expect(checkout.calls()).toEqual([]);
  });

  it("prints its usage for --help, and asks nothing", async () => {
    const result = await checkout.script("verify", ["--help"], { CONSUL_LAB_TOPOLOGY: topologyFile });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run verify \[-- --drill\] \[-- --settle SECONDS\] \[-- --restore\]\n/);
    expect(checkout.calls()).toEqual([]);
  });

  it("refuses to run when no container carries the lab's label", () =>
    withStandIn(async (standIn) => {
      const other = join(checkout.root, "other-lab.json");
      writeFileSync(other, JSON.stringify({ ...input, name: "not-deployed" }));
      const result = await checkout.script("verify", ["--drill"], {
        ...verifyEnv(standIn),
        CONSUL_LAB_TOPOLOGY: other,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("no container labelled consul-lab.lab=not-deployed was found");
      expect(checkout.calls("docker").filter((call) => call.argv[0] !== "ps")).toEqual([]);
    }));
});

describe("npm run verify -- --drill", () => {
  it("times the switch to the sorry server and back on the real lab's timings, and restores the lab", () =>
    withStandIn(async (standIn) => {
      const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn));
      if (process.env.DEBUG_VERIFY) console.log(result.stdout);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const report = JSON.parse(checkout.file("verify-report.json"));
      const rows = report.drill as DrillRowSeen[];
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
      for (const row of rows.filter((row) => row.seconds !== undefined))
        expect(row.seen).toMatch(/^after \d+\.\d s ± \d\.\d/);
      expect(rows.find((row) => row.expected === "the entry serves the sorry page")!.seen).toMatch(
        /the action took \d\.\d s$/,
      );
      expect(
        rows.find((row) => row.expected === "the entry answers every request with the app or the sorry page")!.seen,
      ).toMatch(
        /^0 of \d+ requests failed \(neither an app nor the sorry page, from the action being sent to the step's end\)$/,
      );
      expect(result.stdout).toMatch(/step\s+expected\s+seen\s+seconds\s+result/);
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
    }));

  it("fails a step that never completes at its deadline, and still restores the lab", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script(
          "verify",
          ["--drill"],
          verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
        );
        expect(result.status).toBe(1);
        const rows = JSON.parse(checkout.file("verify-report.json")).drill as {
          expected: string;
          ok: boolean;
          seen: string;
        }[];
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
  ] as const)("restores every container it stopped on %s", (signal, code) =>
    withStandIn(async (standIn) => {
      const child = checkout.cli(
        "cli/verify.ts",
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
    }),
  );
});

describe("npm run verify never passes what it did not check", () => {
  it("fails DNS over TCP when the published port closes the connection, and replaces an old report", () =>
    withStandIn(
      async (standIn) => {
        writeFileSync(join(checkout.root, "verify-report.json"), JSON.stringify({ passed: true, stale: true }));
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        expect(factLines(result.stdout)).toContainEqual(
          expect.stringMatching(
            /^FAIL {2}DNS tcp 127\.0\.0\.1:\d+: dev1001\.node\.consul -> 10\.0\.1\.1: (127\.0\.0\.1:\d+ closed the TCP connection without a full DNS answer|read ECONNRESET)$/,
          ),
        );
        expect(JSON.parse(checkout.file("verify-report.json"))).toMatchObject({ passed: false });
      },
      // Docker's proxy with nothing behind it: the publish node's agent is down.
      (standIn) => standIn.setRunning("consul-lab-dev1001", false),
    ));

  it("refuses the drill from a lab whose facts fail, and changes nothing", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--drill", "--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        expect(result.stdout).toMatch(
          /drill: not run: \d+ fact\(s\) fail; the drill starts only from a lab whose facts all hold/,
        );
        expect(checkout.calls("docker").filter((call) => ["stop", "start"].includes(call.argv[0]))).toEqual([]);
        expect(JSON.parse(checkout.file("verify-report.json"))).toMatchObject({ passed: false, drill: [] });
      },
      // The flag already on with the app servers passing: "sorry page" and "flag on" would pass at 0 s.
      (standIn) => {
        standIn.kv.set("web/test.hoge.dev.jp/maintenance/key", "on");
        standIn.timeline.flagNeverChanges = true;
      },
    ));

  it("fails a step without acting when the lab is not where the step starts", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const rows = JSON.parse(checkout.file("verify-report.json")).drill as DrillRowSeen[];
        expect(rows).toEqual([
          expect.objectContaining({
            expected: "the lab is where this step starts",
            seen: expect.stringContaining(
              "every load balancer's upstream lists the app servers (seen: 10.0.1.4 10.0.1.6 | 10.0.1.4 10.0.1.6)",
            ),
            ok: false,
          }),
        ]);
        expect(checkout.calls("docker").filter((call) => call.argv[0] === "stop")).toEqual([]);
      },
      // A consul-template stuck without dev1005, while the entry still gets app pages from dev1004.
      (standIn) => standIn.pinUpstream(["10.0.1.4", "10.0.1.6"]),
    ));

  it("fails the rejoin when the restarted server's own agent knows no leader", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script(
          "verify",
          ["--drill"],
          verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
        );
        expect(result.status).toBe(1);
        const rows = JSON.parse(checkout.file("verify-report.json")).drill as DrillRowSeen[];
        expect(rows.find((row) => row.expected === "dev1001 itself knows a leader")).toMatchObject({
          ok: false,
          seen: "not by the deadline (last: no leader known)",
        });
      },
      (standIn) => (standIn.timeline.neverRejoins = true),
    ));

  it("fails example.com's 'no answer' when the lookup could not run", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        expect(factLines(result.stdout)).toContain(
          "FAIL  DNS inside dev1001: example.com gets no answer (no recursors): the lookup did not run (no server answered nslookup)",
        );
      },
      (standIn) => (standIn.timeline.nslookupFails = true),
    ));

  it("keeps asking the entry while a docker stop takes 1.5 s, and times from the stop's return", () =>
    withStandIn(async (standIn) => {
      const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn, { FAKE_DOCKER_STOP_MS: "1500" }));
      const rows = JSON.parse(checkout.file("verify-report.json")).drill as DrillRowSeen[];
      const sorry = rows.find((row) => row.expected === "the entry serves the sorry page")!;
      expect(sorry.seen).toMatch(/the action took 1\.[5-9] s$/);
      expect(
        rows.find((row) => row.step.startsWith("stop every") && row.expected.startsWith("the entry answers")),
      ).toMatchObject({
        ok: true,
      });
      expect(result.status).toBe(0);
    }));
});

describe("an interrupted drill", () => {
  /** Starts a drill and waits until it has stopped the app servers; resolves to the running child. */
  async function drillUntilAppsStopped(standIn: LabStandIn, env: Record<string, string> = {}) {
    const child = checkout.cli(
      "cli/verify.ts",
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
      const restore = await checkout.script("verify", ["--restore"], verifyEnv(standIn));
      expect(restore.stdout).toContain("restored: started consul-lab-dev1004-app again");
      expect(restore.stdout).toContain("verify: the lab is as it was before the drill");
      expect(restore.status).toBe(0);
      expect(stopped(standIn)).toEqual([]);
      expect(existsSync(join(checkout.root, ".verify-drill.json"))).toBe(false);
      // Nothing left to do: a second --restore says so.
      expect((await checkout.script("verify", ["--restore"], verifyEnv(standIn))).stdout).toContain(
        "nothing to restore",
      );
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
});

describe("the README's real-host expectations", () => {
  it("are written from the timing table the stand-in plays scaled down", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    expect(readme).toContain(`On the default lab on a real host, expect: ${realHostExpectations(labTimings(labOf()))}`);
  });
});
