/**
 * The ssh forwards to a remote host's published ports (runtime/ssh-forwards.ts), with the fake ssh on the PATH: bound
 * where the lab publishes, closed by a signal however it comes, and never ended by a terminal's Ctrl-C under a command
 * that still needs them.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tryBind } from "../cli/port-probe";
import { forwardArgs, sshTargetOf } from "../runtime/ssh-forwards";
import { onlySwarmAttachFailures } from "../cli/terraform";
import { articleInput } from "./tools/helpers";
import { FAKES_BIN } from "./tools/lab-checkout";
import { freeLoopbackPort } from "./tools/ports";
import { PROJECT_ROOT } from "./tools/synth";

jest.setTimeout(60_000);

/** Starts hold-forwards.ts on a lab published on `address`, in a process group of its own, once its forwards are open. */
async function holdForwards(address = "127.0.0.1") {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-forwards-"));
  const input = articleInput();
  input.publish = {
    address,
    httpPort: await freeLoopbackPort(),
    dnsPort: await freeLoopbackPort(),
    entryPort: await freeLoopbackPort(),
  };
  const topologyFile = join(dir, "lab.json");
  writeFileSync(topologyFile, JSON.stringify(input));
  const log = join(dir, "calls.jsonl");
  const child = spawn(process.execPath, ["scripts/run-ts.mjs", "__tests__/tools/hold-forwards.ts"], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PATH: `${FAKES_BIN}:${process.env.PATH}`,
      CONSUL_LAB_TOPOLOGY: topologyFile,
      DOCKER_HOST: "ssh://ops@lab.example.test",
      FAKE_LOG: log,
    },
    // As a terminal runs a command: its own process group, which a Ctrl-C signals whole.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => String(chunk).includes("open") && resolve());
    child.once("exit", () => reject(new Error(`hold-forwards ended before its forwards opened: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ssh = () =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((call) => call.program === "ssh");
  const { httpPort, dnsPort, entryPort } = input.publish as Record<string, number>;
  return { child, exited, ssh, ports: [httpPort, dnsPort, entryPort] };
}

describe("the ssh forwards", () => {
  it("are closed when the command gets SIGTERM, and its ports are free again", async () => {
    const held = await holdForwards();
    process.kill(held.child.pid!, "SIGTERM");
    expect(await held.exited).toBe(143);
    expect(held.ssh().map((call) => call.event)).toEqual(["opened", "closed"]);
    for (const port of held.ports) expect(await tryBind("127.0.0.1", port, "tcp")).toBeUndefined();
  });

  it("are closed by the command, not by the terminal, on a Ctrl-C to the whole process group", async () => {
    const held = await holdForwards();
    process.kill(-held.child.pid!, "SIGINT");
    expect(await held.exited).toBe(130);
    // ssh runs in a group of its own: it did not get the group's SIGINT; the command ended it (SIGTERM).
    expect(held.ssh().map((call) => `${call.event}${call.signal ? ` ${call.signal}` : ""}`)).toEqual([
      "opened",
      "closed SIGTERM",
    ]);
  });

  it("bind where the lab publishes, on any loopback address, to the same address on the remote host", async () => {
    const held = await holdForwards("127.0.0.3");
    process.kill(held.child.pid!, "SIGTERM");
    await held.exited;
    expect(held.ssh()[0].argv.filter((arg: string) => arg.includes(":"))).toEqual(
      held.ports.map((port) => `127.0.0.3:${port}:127.0.0.3:${port}`),
    );
  });

  it.each([
    ["ssh://ops@lab-a", { destination: "ops@lab-a" }],
    ["ssh://lab-a:2222", { destination: "lab-a", port: "2222" }],
    ["ssh://ops@[2001:db8::1]:22", { destination: "ops@2001:db8::1", port: "22" }],
    ["tcp://lab-a:2376", undefined],
  ])("take ssh's own destination and port from %s", (endpoint, target) => {
    expect(sshTargetOf(endpoint)).toEqual(target);
  });

  it("pass the port with -p and the destination after --", () => {
    expect(
      forwardArgs({ destination: "ops@lab-a", port: "2222" }, "127.0.0.1", [{ port: 8500, field: "api" }]),
    ).toEqual([
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "BatchMode=yes",
      "-p",
      "2222",
      "-L",
      "127.0.0.1:8500:127.0.0.1:8500",
      "--",
      "ops@lab-a",
    ]);
  });
});

describe("a Terraform apply worth another attempt", () => {
  const attach =
    "Unable to start container: Error response from daemon: attaching to network failed, make sure your network options are correct and check manager logs: context deadline exceeded";
  it.each([
    ["one attach failure", `\nError: ${attach}\n\n  with docker_container.a,\n`, true],
    [
      "two, boxed as in colour",
      `╷\n│ Error: ${attach}\n╵\n╷\n│ Error: could not allocate IP from IPAM: Address already in use\n╵\n`,
      true,
    ],
    [
      "an attach failure and another error",
      `\nError: ${attach}\n\nError: Unable to create volume: no space left on device\n`,
      false,
    ],
    ["another error alone", "\nError: Unable to pull image nginx:1.27-alpine\n", false],
    ["no error block at all", attach, false],
  ])("is recognised from its errors: %s", (_name, stderr, retried) => {
    expect(onlySwarmAttachFailures(stderr)).toBe(retried);
  });
});
