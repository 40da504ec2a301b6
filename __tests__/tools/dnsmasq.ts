/** Runs Debian's real dnsmasq on loopback: `dnsmasq --test` on a config, or a forwarder on a high port. */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DNSMASQ =
  ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].find((path) => spawnSync(path, ["--version"]).status === 0) ?? "dnsmasq";

export function dnsmasqTest(conf: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-dnsmasq-"));
  const file = join(dir, "dnsmasq.conf");
  writeFileSync(file, conf);
  const result = spawnSync(DNSMASQ, ["--test", `--conf-file=${file}`], { encoding: "utf8" });
  if (result.error) throw new Error(`cannot run dnsmasq (apt-get install dnsmasq-base): ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

export interface RunningDnsmasq {
  /** The names this instance was asked for, from its query log. */
  queriedNames(): string[];
  /** Makes dnsmasq read its hosts files again (SIGHUP), as after they changed. */
  reload(): void;
  stop(): Promise<void>;
}

/** Starts dnsmasq in the foreground on a config; resolves once it answers on `address`:`port`. */
export async function startDnsmasq(conf: string, port: number, address = "127.0.0.1"): Promise<RunningDnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-dnsmasq-"));
  const file = join(dir, "dnsmasq.conf");
  const log = join(dir, "queries.log");
  writeFileSync(file, `${conf}\nlog-queries\nlog-facility=${log}\n`);
  const child: ChildProcess = spawn(
    DNSMASQ,
    ["--keep-in-foreground", `--conf-file=${file}`, `--pid-file=${join(dir, "pid")}`, "--user=root"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const deadline = Date.now() + 5000;
  try {
    while (dig(port, "ready.invalid", "A", address).status !== 0) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`dnsmasq did not start on ${address}:${port}: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    // Whatever went wrong (no dig, no answer), the dnsmasq started here must not outlive the test run.
    child.kill("SIGKILL");
    throw error;
  }
  return {
    queriedNames: () =>
      [...readFileSync(log, "utf8").matchAll(/query\[\w+\] (\S+) from/g)]
        .map((match) => match[1])
        .filter((name) => name !== "ready.invalid"),
    reload: () => {
      child.kill("SIGHUP");
    },
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** `dig` against `address`:`port`; status is dig's (0 once a server answered, whatever the answer). */
export function dig(
  port: number,
  name: string,
  type = "A",
  address = "127.0.0.1",
): { status: number | null; answers: string[]; rcode: string } {
  const result = spawnSync("dig", ["+tries=1", "+time=1", "-p", String(port), `@${address}`, name, type], {
    encoding: "utf8",
  });
  if (result.error) throw new Error(`cannot run dig (apt-get install bind9-dnsutils): ${result.error.message}`);
  const rcode = /status: (\w+)/.exec(result.stdout)?.[1] ?? "";
  const answerSection = result.stdout.split(";; ANSWER SECTION:")[1]?.split("\n\n")[0] ?? "";
  const answers = answerSection
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5)
    .map((fields) => fields[4]);
  return { status: result.status, answers, rcode };
}
