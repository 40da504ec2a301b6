/**
 * `npm run verify` (the facts, its arguments, `--help`), run end to end against a stand-in lab on loopback (fake
 * Consul API, real nginx and dnsmasq, the fake docker).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLabTls, readSecrets, roleTokenSecret } from "../secrets";
import { labTimings, realHostExpectations } from "../verify/lab-timings";
import { labOf } from "./tools/helpers";
import { PROJECT_ROOT } from "./tools/synth";
import { LabStandIn } from "./tools/lab-stand-in";
import { factLines, verifyHarness } from "./tools/verify-harness";

jest.setTimeout(90_000);

const { checkout, state, withStandIn, verifyEnv, readReport } = verifyHarness();

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
      expect(result.stdout).toContain("ok    a leader is elected, and holds still: 10.0.1.1:8300");
      expect(result.stdout).toContain(
        "ok    the raft peers are the servers (dev1001, dev1002, dev1003), all voters: dev1001, dev1002, dev1003",
      );
      expect(result.stdout).toContain("ok    ACLs refuse an anonymous write: HTTP 403");
      // It reads with the narrow `verify` role's token, never the management token.
      const secrets = readSecrets(join(checkout.root, ".secrets", "consul-lab.json"));
      expect([...standIn.tokensSeen]).toEqual([roleTokenSecret(secrets, "verify")]);
      expect(result.stdout).toMatch(
        /ok {4}DNS udp 127\.0\.0\.1:\d+: lb\.nginx\.service\.consul -> 10\.0\.1\.2, 10\.0\.1\.3: 10\.0\.1\.2, 10\.0\.1\.3/,
      );
      expect(result.stdout).toMatch(/ok {4}DNS tcp .*test_hoge_dev_jp\.query\.consul -> 10\.0\.1\.4, 10\.0\.1\.5/);
      expect(result.stdout).toContain(
        "ok    DNS inside dev1001 (its dnsmasq): dev1001.node.consul -> 10.0.1.1: 10.0.1.1",
      );
      expect(result.stdout).toMatch(
        // Either app server: the load balancers' nginx balances between them.
        /ok {4}http:\/\/127\.0\.0\.1:\d+\/ answers 200 with an app server's page: HTTP 200, app page from dev100[45]/,
      );
      const report = readReport();
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
        expect(readReport().passed).toBe(false);
        expect(result.stdout).toMatch(/verify: \d+ check\(s\) failed/);
      },
      (standIn) => {
        standIn.raftServers = ["dev1001", "dev1002"];
        standIn.timeline.anonymousWrites = true;
        standIn.setRunning("consul-lab-dev1005-app", false);
      },
    ));

  it("trusts only the lab's CA: an API serving another CA's certificate fails every fact that asks it", async () => {
    const lab = labOf(state.input);
    const otherCa = ensureLabTls(lab, join(mkdtempSync(join(tmpdir(), "consul-lab-other-ca-")), "tls"));
    const impostor = new LabStandIn(lab, otherCa.servers[lab.publishNode.name]);
    await impostor.start();
    try {
      const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(impostor));
      expect(result.status).toBe(1);
      const failing = factLines(result.stdout).filter((line) => line.startsWith("FAIL"));
      expect(failing).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^FAIL {2}a leader is elected, and holds still: .*(self-signed certificate in certificate chain|unable to verify)/,
          ),
          expect.stringMatching(
            /^FAIL {2}the Consul UI https:\/\/127\.0\.0\.1:\d+\/ui\/ answers with the UI: .*certificate/,
          ),
        ]),
      );
      expect(failing.filter((line) => line.includes("ACLs refuse"))).toHaveLength(1);
    } finally {
      await impostor.stop();
    }
  });

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

  it("fails a leader that does not hold still, and the drill does not start on it", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--settle", "0", "--drill"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        expect(factLines(result.stdout)).toContainEqual(
          expect.stringMatching(
            /^FAIL {2}a leader is elected, and holds still: 10\.0\.1\.\d:8300, then 10\.0\.1\.\d:8300 1 s later$/,
          ),
        );
        expect(JSON.parse(checkout.file("verify-report.json")).drillRefused).toMatch(/fact\(s\) fail/);
      },
      (standIn) => (standIn.timeline.leaderFlaps = true),
    ));

  it("expects Consul's DNS to answer the site's query with the passing app servers only, as it does", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        const query = factLines(result.stdout).filter((line) => line.includes("test_hoge_dev_jp.query.consul"));
        expect(query).toEqual([
          expect.stringMatching(
            /^ok {4}DNS udp 127\.0\.0\.1:\d+: test_hoge_dev_jp\.query\.consul -> 10\.0\.1\.4: 10\.0\.1\.4$/,
          ),
          expect.stringMatching(
            /^ok {4}DNS tcp 127\.0\.0\.1:\d+: test_hoge_dev_jp\.query\.consul -> 10\.0\.1\.4: 10\.0\.1\.4$/,
          ),
        ]);
      },
      (standIn) => standIn.setRunning("consul-lab-dev1005-app", false),
    ));

  it("asks a lab that is not right yet again until it settles, then passes", () =>
    withStandIn(
      async (standIn) => {
        const child = checkout.cli("verify/main.ts", ["--settle=20"], verifyEnv(standIn));
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
        // The watch handler's log is shown, not judged: never an "ok" that checked nothing.
        expect(stdout).toMatch(/^info {2}the watch handler's last change on dev1002: /m);
        expect(stdout).not.toMatch(/^ok {4}the watch handler/m);
      },
      (standIn) => standIn.setRunning("consul-lab-dev1005-app", false),
    ));

  it.each([
    [["--settle", "soon"], {}, '--settle takes a number of seconds (0 or more), not "soon"'],
    [["--settle="], {}, '--settle takes a number of seconds (0 or more), not ""'],
    [["--settle", "1e3"], {}, '--settle takes a number of seconds (0 or more), not "1e3"'],
    [["--settle"], {}, "--settle needs a number of seconds (0 or more)"],
    [["--dril"], {}, 'unknown argument "--dril"; verify takes --drill, --settle SECONDS and --restore (see --help)'],
    [["--restore", "--drill"], {}, "--restore only puts the lab back; run it, then the drill again"],
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
    const result = await checkout.script("verify", args, { CONSUL_LAB_TOPOLOGY: state.topologyFile, ...env });
    expect(result.stderr).toBe(`consul-lab: ${message}\n`);
    expect(result.status).toBe(2);
    expect(checkout.calls()).toEqual([]);
  });

  it("prints its usage for --help, and asks nothing", async () => {
    const result = await checkout.script("verify", ["--help"], { CONSUL_LAB_TOPOLOGY: state.topologyFile });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run verify \[-- --drill\] \[-- --settle SECONDS\] \[-- --restore\]\n/);
    expect(checkout.calls()).toEqual([]);
  });

  it("refuses to run when no container carries the lab's label", () =>
    withStandIn(async (standIn) => {
      const other = join(checkout.root, "other-lab.json");
      writeFileSync(other, JSON.stringify({ ...state.input, name: "not-deployed" }));
      const result = await checkout.script("verify", ["--drill"], {
        ...verifyEnv(standIn),
        CONSUL_LAB_TOPOLOGY: other,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("no container labelled consul-lab.lab=not-deployed was found");
      expect(checkout.calls("docker").filter((call) => call.argv[0] !== "ps")).toEqual([]);
    }));
});

describe("the documented real-host expectations (docs/verify.md)", () => {
  it("are written from the timing table the stand-in plays scaled down", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "docs", "verify.md"), "utf8").replace(/\s+/g, " ");
    expect(readme).toContain(`On the default lab on a real host, expect: ${realHostExpectations(labTimings(labOf()))}`);
  });
});

describe("npm run verify without a Docker engine", () => {
  it("writes a failing report that says why, replacing an old one", async () => {
    writeFileSync(join(checkout.root, "verify-report.json"), JSON.stringify({ passed: true, stale: true }));
    // No state file: the fake docker answers as a CLI whose engine is down.
    const result = await checkout.script("verify", [], {
      CONSUL_LAB_TOPOLOGY: state.topologyFile,
      FAKE_DOCKER_STATE: join(checkout.root, "no-engine.json"),
    });
    expect(result.status).toBe(1);
    expect(readReport()).toMatchObject({
      passed: false,
      error: expect.stringContaining("cannot list the lab's containers: docker ps failed"),
    });
  });
});
