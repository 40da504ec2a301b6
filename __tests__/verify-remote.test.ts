/**
 * `npm run verify` against a lab on a remote Docker host (DOCKER_HOST=ssh://...): the lab publishes on that host's
 * loopback, and verify reaches it through ssh forwards it opens for the run and closes at its end. The fake ssh
 * really forwards, to a stand-in lab that plays the remote host on ports of its own.
 */
import type { LabStandIn } from "./tools/lab-stand-in";
import { factLines, verifyHarness } from "./tools/verify-harness";

jest.setTimeout(90_000);

const { checkout, state, verifyEnv, withStandIn } = verifyHarness();

/**
 * The stand-in plays the remote host on the same ports, on another loopback address (127.0.0.2), which the fake ssh
 * forwards to (FAKE_SSH_REMOTE_ADDRESS), so the ports here are free for the forwards as on a real remote host.
 */
const REMOTE_LOOPBACK = "127.0.0.2";
const onRemoteHost = <T>(script: (standIn: LabStandIn) => Promise<T>) =>
  withStandIn(script, undefined, REMOTE_LOOPBACK);
const remote = (extra: Record<string, string> = {}) => ({
  DOCKER_HOST: "ssh://ops@lab.example.test",
  FAKE_SSH_REMOTE_ADDRESS: REMOTE_LOOPBACK,
  ...extra,
});

describe("npm run verify on a remote host", () => {
  it("passes through ssh forwards it opens for the run and closes, asking DNS over UDP inside a node", () =>
    onRemoteHost(async (standIn) => {
      const result = await checkout.script("verify", ["--settle", "5"], verifyEnv(standIn, remote()));
      expect(factLines(result.stdout).filter((line) => line.startsWith("FAIL"))).toEqual([]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("(through ssh forwards from ops@lab.example.test)");
      expect(result.stdout).toMatch(
        /ok {4}DNS udp inside dev1001 \(UDP is not forwarded over ssh\): lb\.nginx\.service\.consul -> 10\.0\.1\.2, 10\.0\.1\.3/,
      );
      expect(result.stdout).toMatch(/ok {4}DNS tcp 127\.0\.0\.1:\d+: lb\.nginx\.service\.consul/);
      const { httpPort, dnsPort, entryPort } = state.input.publish as Record<string, number>;
      const ssh = checkout.calls("ssh" as never) as unknown as { event: string; argv: string[] }[];
      expect(ssh.map((call) => call.event)).toEqual(["opened", "closed"]);
      expect(ssh[0].argv.filter((arg) => arg.startsWith("127.0.0.1:"))).toEqual(
        [httpPort, dnsPort, entryPort].map((port) => `127.0.0.1:${port}:127.0.0.1:${port}`),
      );
    }));

  it("fails with ssh's own words, and a report that says so, when the forwards cannot open", () =>
    onRemoteHost(async (standIn) => {
      const result = await checkout.script("verify", [], verifyEnv(standIn, remote({ FAKE_FAIL: "ssh:connect" })));
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        "cannot forward the lab's ports from ops@lab.example.test over ssh: ssh: connect to host lab.example.test port 22: Connection refused",
      );
      expect(JSON.parse(checkout.file("verify-report.json"))).toMatchObject({ passed: false });
    }));

  it("refuses a remote engine that is not reached over ssh, naming the fix", () =>
    onRemoteHost(async (standIn) => {
      const result = await checkout.script("verify", [], verifyEnv(standIn, { DOCKER_HOST: "tcp://10.9.8.7:2376" }));
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("reach it as ssh://user@host");
      expect(checkout.calls("ssh" as never)).toEqual([]);
    }));
});
