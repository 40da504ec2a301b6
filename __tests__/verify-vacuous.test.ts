/** `npm run verify` never passes what it did not check: one test per way it once could. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { factLines, verifyHarness } from "./tools/verify-harness";

jest.setTimeout(90_000);

const { checkout, withStandIn, verifyEnv, readReport } = verifyHarness();

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
        expect(readReport()).toMatchObject({ passed: false });
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
        expect(readReport()).toMatchObject({ passed: false, drill: [] });
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
        const rows = readReport().drill!;
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

  it("does not stop the leader while the servers see a leader that flaps", () =>
    withStandIn(async (standIn) => {
      const child = checkout.cli("verify/main.ts", ["--drill"], verifyEnv(standIn));
      let stdout = "";
      // The facts held; the leader starts to flap once the drill reaches the leader's step.
      child.stdout!.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("drill: stop the leader")) standIn.timeline.leaderFlaps = true;
      });
      expect(await new Promise((resolve) => child.on("close", resolve))).toBe(1);
      const row = readReport().drill!.find((candidate) => candidate.step.startsWith("stop the leader"));
      expect(row).toEqual(
        expect.objectContaining({
          expected: "the lab is where this step starts",
          seen: expect.stringMatching(/every server sees one leader, holding still.*the servers saw .* 1 s later/),
          ok: false,
        }),
      );
      // Nor is it started "again": that step says it did not run, rather than passing at once.
      expect(readReport().drill!.find((candidate) => /^start dev100[123] again$/.test(candidate.step))).toEqual(
        expect.objectContaining({
          expected: "the step it undoes acted",
          seen: expect.stringMatching(/^not run: "stop the leader server dev100[123]" did not act$/),
          ok: false,
        }),
      );
      // No server was stopped for it.
      expect(
        checkout
          .calls("docker")
          .filter((call) => call.argv[0] === "stop" && /-dev100[123]$/.test(call.argv.at(-1) ?? ""))
          .map((call) => call.argv.at(-1)),
      ).toEqual([]);
    }));

  it("fails the rejoin when the restarted server's own agent knows no leader", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script(
          "verify",
          ["--drill"],
          verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
        );
        expect(result.status).toBe(1);
        const rows = readReport().drill!;
        expect(rows.find((row) => row.expected === "dev1001 itself knows a leader")).toMatchObject({
          ok: false,
          seen: "not by the deadline (last: no leader known)",
        });
        // Raft still lists it as a voter; autopilot does not count it back.
        expect(
          rows.find((row) => row.expected === "autopilot reports dev1001 healthy and a voter, after seeing it go"),
        ).toMatchObject({ ok: false, seen: expect.stringContaining("last: unhealthy") });
      },
      (standIn) => (standIn.timeline.neverRejoins = true),
    ));

  it("fails the rejoin when autopilot reports the returned server only by its record from before it was stopped", () =>
    withStandIn(async (standIn) => {
      const child = checkout.cli(
        "verify/main.ts",
        ["--drill"],
        verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
      );
      let stdout = "";
      // Autopilot's record freezes once the drill reaches the leader: healthy, and never seen to go.
      child.stdout!.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.includes("drill: stop the leader")) standIn.autopilotFrozen = true;
      });
      expect(await new Promise((resolve) => child.on("close", resolve))).toBe(1);
      const rows = readReport().drill!.filter((row) => row.step === "start dev1001 again");
      expect(rows.map((row) => [row.expected, row.ok])).toEqual([
        ["consul-lab-dev1001 runs", true],
        ["dev1001 itself knows a leader", true],
        ["autopilot reports dev1001 healthy and a voter, after seeing it go", false],
      ]);
      expect(rows[2].seen).toMatch(/last: healthy since \S+, before it left: autopilot has not seen it go\)$/);
    }));

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

  it("fails the load balancer step when the entry has no other load balancer to fall back on", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const row = readReport().drill!.find((candidate) => candidate.step === "stop load balancer dev1002")!;
        expect(row).toMatchObject({ expected: "the entry keeps answering with dev1002 down", ok: false });
        expect(row.seen).toMatch(/^[1-9]\d* of \d+ requests failed/);
      },
      // The entry knows only dev1002: with its nginx stopped, nothing answers behind the entry.
      (standIn) => standIn.entryReachesOnly(["dev1002"]),
    ));

  it("fails the operator's maintenance when one load balancer ignores the switch, though the entry shows sorry pages", () =>
    withStandIn(
      async (standIn) => {
        const result = await checkout.script("verify", ["--drill"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const rows = readReport().drill!.filter(
          (row) => row.step.startsWith("operator sets") && row.step.endsWith(" on"),
        );
        // The first sorry answer comes (from the load balancer that switched), but not every load balancer switched,
        // and the entry keeps answering app pages between the sorry ones.
        expect(rows.find((row) => row.expected === "the entry serves the sorry page")).toMatchObject({ ok: true });
        expect(
          rows.find((row) => row.expected === "every load balancer's upstream lists only the sorry server"),
        ).toMatchObject({
          ok: false,
        });
        expect(rows.find((row) => row.expected.startsWith("the entry serves only the sorry pages for"))).toMatchObject({
          ok: false,
        });
        // Its "off" has nothing to come back from: not run, never a PASS at once.
        const off = readReport().drill!.filter(
          (row) => row.step.startsWith("operator sets") && row.step.endsWith(" off"),
        );
        expect(off).toEqual([expect.objectContaining({ ok: false, seen: expect.stringMatching(/^not run: /) })]);
      },
      (standIn) => standIn.ignoreOperatorSwitch("dev1003"),
    ));

  it("fails the DNS facts on a malformed answer, with no stack trace, and leaves no passing report", () =>
    withStandIn(async (standIn) => {
      await standIn.answerDnsWithJunk();
      writeFileSync(join(checkout.root, "verify-report.json"), JSON.stringify({ passed: true, earlier: true }));
      const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
      expect(result.status).toBe(1);
      expect(result.stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
      const dns = factLines(result.stdout).filter((line) => / DNS (udp|tcp) /.test(line));
      expect(dns.length).toBeGreaterThan(0);
      for (const line of dns) expect(line).toMatch(/^FAIL {2}.*malformed DNS answer from 127\.0\.0\.1:\d+/);
      expect(readReport()).toMatchObject({ passed: false });
      expect((readReport() as any).earlier).toBeUndefined();
    }));

  it("names an instance the topology does not have, and never counts a critical one as passing", () =>
    withStandIn(async (standIn) => {
      standIn.extraInstances.set("test_hoge_dev_jp", [
        { node: "dev1006", address: "10.0.1.99", id: "web-rogue", status: "critical" },
      ]);
      const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
      expect(result.status).toBe(1);
      expect(factLines(result.stdout)).toContain(
        "FAIL  test_hoge_dev_jp: 3 instance(s) registered, every check passing: web-rogue on dev1006 (10.0.1.99) is registered, and the topology has no such instance",
      );
    }));

  it("names a lab instance another token rewrote in the catalog (its port and tags)", () =>
    withStandIn(async (standIn) => {
      // What a site node's service:write allows: PUT /v1/catalog/register of dev1004's instance, still passing.
      standIn.rewrittenInstances.set("dev1004", { port: 81, tags: ["web", "canary"] });
      const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
      expect(result.status).toBe(1);
      expect(factLines(result.stdout)).toContain(
        "FAIL  test_hoge_dev_jp: 3 instance(s) registered, every check passing: web on dev1004 is registered with port 81, tags [canary, web]; the topology says port 80, tags [web]",
      );
    }));

  describe("says it cannot judge, and why, where an answer gives no verdict", () => {
    it("a leader answer cut short: no 'no leader', no TypeError", () =>
      withStandIn(async (standIn) => {
        standIn.apiAnswers.set("/v1/status/leader", { status: 200, body: '"10.0.1.1:83' });
        standIn.apiAnswers.set("/v1/operator/raft/configuration", { status: 200, body: '{"Servers":[{"Node":' });
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const lines = factLines(result.stdout);
        expect(lines).toContain(
          "FAIL  a leader is elected, and holds still: cannot judge: GET /v1/status/leader: HTTP 200 with a body that is not whole JSON (12 bytes, cut short?)",
        );
        expect(lines.find((line) => line.includes("the raft peers are the servers"))).toMatch(
          /: cannot judge: GET \/v1\/operator\/raft\/configuration: HTTP 200 with a body that is not whole JSON/,
        );
        expect(result.stdout + result.stderr).not.toMatch(/TypeError|no leader/);
      }));

    it("health unreadable: the entry and the flag are not judged against a sorry page nobody asked for", () =>
      withStandIn(async (standIn) => {
        standIn.apiAnswers.set("/v1/health/service/test_hoge_dev_jp", { status: 500, body: "rpc error: timeout" });
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(result.status).toBe(1);
        const lines = factLines(result.stdout);
        const unreadable =
          "cannot judge: the passing app servers could not be read (GET /v1/health/service/test_hoge_dev_jp";
        const entry = lines.find((line) => / answers 200 with /.test(line))!;
        expect(entry).toMatch(/ answers 200 with the page the app servers' health calls for: /);
        expect(entry).toContain(unreadable);
        expect(lines.find((line) => line.includes("the maintenance flag"))).toContain(unreadable);
        expect(lines.find((line) => line.includes("test_hoge_dev_jp.query.consul"))).toContain(unreadable);
      }));

    it("members the token may not see, as Consul says with X-Consul-Results-Filtered-By-ACLs, are not 'not alive'", () =>
      withStandIn(async (standIn) => {
        const visible = ["dev1001", "dev1002", "dev1003"].map((Name) => ({ Name, Status: 1 }));
        standIn.apiAnswers.set("/v1/agent/members", {
          status: 200,
          body: JSON.stringify(visible),
          headers: { "X-Consul-Results-Filtered-By-ACLs": "true" },
        });
        const result = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(factLines(result.stdout)).toContain(
          "FAIL  every node is an alive member (6): cannot judge: dev1004, dev1005, dev1006 not listed, and Consul filtered the members by ACLs (X-Consul-Results-Filtered-By-ACLs): the token cannot see them",
        );
        // Without the header, missing members are what they seem.
        standIn.apiAnswers.set("/v1/agent/members", { status: 200, body: JSON.stringify(visible) });
        const plain = await checkout.script("verify", ["--settle", "0"], verifyEnv(standIn));
        expect(factLines(plain.stdout)).toContain(
          "FAIL  every node is an alive member (6): not alive: dev1004, dev1005, dev1006",
        );
      }));

    it("a sorry server answering another page: its status and page, not 'a failed request'", () =>
      withStandIn(
        async (standIn) => {
          const result = await checkout.script(
            "verify",
            ["--drill"],
            verifyEnv(standIn, { CONSUL_LAB_DRILL_DEADLINE_SECONDS: "2" }),
          );
          expect(result.status).toBe(1);
          const rows = readReport().drill!.filter((row) => row.step.startsWith("stop every app server"));
          expect(rows.find((row) => row.expected === "the entry serves the sorry page")).toMatchObject({
            ok: false,
            seen: expect.stringMatching(
              /^not by the deadline \(last: HTTP 200 with neither an app nor the sorry page\);/,
            ),
          });
          expect(
            rows.find((row) => row.expected === "the entry answers every request with the app or the sorry page")!.seen,
          ).toMatch(/^([1-9]\d*) of \d+ requests failed: \1 with HTTP 200 and another page /);
        },
        (standIn) => standIn.wrongPage.add("dev1006"),
      ));
  });
});
