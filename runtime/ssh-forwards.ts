/**
 * The lab's published ports on a remote Docker host, brought to this machine for the length of one command: the lab
 * publishes on the remote host's loopback (nothing reaches its LAN), so the CLI opens OpenSSH local forwards, with the
 * user's own ssh and its config, from the same port numbers here to the same ports there. The Consul provider, the
 * leader gate, the ACL bootstrap and verify then dial 127.0.0.1 as on a local host. TCP only: DNS over UDP cannot be
 * forwarded, so verify asks it inside a node instead.
 */
import { ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { type Lab, labPublishedPorts, type PublishedPort } from "../topology";
import { CliError } from "./process";

/** Where `ssh` connects for an `ssh://[user@]host[:port]` endpoint. */
export interface SshTarget {
  /** `user@host` or `host`, as ssh takes it (an IPv6 host without brackets). */
  readonly destination: string;
  readonly port?: string;
}

/** The ssh target of an engine endpoint, or undefined when the endpoint is not `ssh://`. */
export function sshTargetOf(endpoint: string): SshTarget | undefined {
  const match = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(endpoint);
  if (!match) return undefined;
  const [, user, host, port] = match;
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return { destination: user ? `${user}@${bare}` : bare, ...(port ? { port } : {}) };
}

/** One TCP port the lab publishes, reached through a forward. */
export interface ForwardedPort {
  readonly port: number;
  /** What it is, for messages: `publish.httpPort` (the Consul API). */
  readonly field: string;
}

/** The TCP ports of the lab to forward: the API, DNS over TCP, and the entry when the lab has one. */
export function publishedTcpPorts(lab: Lab): ForwardedPort[] {
  return labPublishedPorts(lab)
    .filter((published) => published.protocol === "tcp")
    .map((published) => ({
      port: published.hostPort,
      field: `${published.field} (${FORWARDED_FOR[published.field]})`,
    }));
}

/** What each forwarded port carries, as the forwards' messages name it. */
const FORWARDED_FOR: Record<PublishedPort["field"], string> = {
  "publish.httpPort": "the Consul API",
  "publish.dnsPort": "Consul DNS over TCP",
  "publish.entryPort": "the site's entry",
};

/**
 * The `ssh` arguments that forward each port from `address` here (a loopback address) to the same address and port
 * as the remote host sees them.
 */
export function forwardArgs(target: SshTarget, address: string, ports: readonly ForwardedPort[]): string[] {
  return [
    "-N",
    // A forward that cannot be opened (a port taken here) ends ssh at once instead of leaving it half working.
    "-o",
    "ExitOnForwardFailure=yes",
    // No password prompt in the middle of a deploy: keys or an agent, as `docker` over ssh needs too.
    "-o",
    "BatchMode=yes",
    ...(target.port ? ["-p", target.port] : []),
    ...ports.flatMap(({ port }) => ["-L", `${address}:${port}:${address}:${port}`]),
    "--",
    target.destination,
  ];
}

/** How long ssh may take to open every forward. */
const OPEN_TIMEOUT_MS = 30_000;

const accepts = (address: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: address, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** The signals that end the CLI, with the exit status a shell gives each. */
const ENDING_SIGNALS: readonly [NodeJS.Signals, number][] = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
];

/**
 * Open forwards: close() ends ssh and waits for it. ssh runs in a process group of its own, so a terminal's Ctrl-C
 * does not end it under a command that is still cleaning up (a drill putting the lab back needs the API). They are
 * closed when the process exits, and on a signal nothing else handles, which would otherwise end Node without its
 * `exit` event and leave ssh holding the ports.
 */
export class SshForwards {
  private closed = false;
  private readonly onExit = () => this.child.kill("SIGTERM");
  private readonly onSignal = (signal: NodeJS.Signals) => {
    // Another handler (the CLI's, a drill's) owns this signal: it ends the process, and `exit` closes ssh then.
    if (process.listenerCount(signal) > 1) return;
    // The command ends once ssh has, so its ports are free when it is gone (or after a few seconds at most).
    const status = ENDING_SIGNALS.find(([name]) => name === signal)![1];
    if (this.child.exitCode !== null || this.child.signalCode !== null) process.exit(status);
    this.child.once("exit", () => process.exit(status));
    setTimeout(() => process.exit(status), 5_000).unref();
    this.child.kill("SIGTERM");
  };

  private constructor(
    private readonly child: ChildProcess,
    readonly target: SshTarget,
    readonly ports: readonly ForwardedPort[],
  ) {
    process.once("exit", this.onExit);
    for (const [signal] of ENDING_SIGNALS) process.on(signal, this.onSignal);
  }

  /**
   * Starts ssh with a local forward per port and waits until each accepts a connection here; throws with ssh's own
   * words when it ends first, or when the forwards do not open in time.
   */
  static async open(
    target: SshTarget,
    address: string,
    ports: readonly ForwardedPort[],
    env: NodeJS.ProcessEnv,
  ): Promise<SshForwards> {
    // A port that already answers here would look open before ssh could take it.
    const taken = (
      await Promise.all(ports.map(async (port) => ((await accepts(address, port.port)) ? [port] : [])))
    ).flat();
    if (taken.length > 0)
      throw new CliError(
        `cannot forward the lab's ports from ${target.destination}: a program here already listens on ${taken.map((p) => `${address}:${p.port} (${p.field})`).join(", ")}; stop it, or choose other ports in the topology's publish section`,
      );
    const child = spawn("ssh", forwardArgs(target, address, ports), {
      env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const ended = new Promise<string>((resolve) => {
      child.once("error", (error) => resolve(`cannot run ssh: ${error.message}`));
      child.once("exit", (code, signal) =>
        resolve(stderr.trim().split("\n").filter(Boolean).pop() ?? `ssh ended (${signal ?? `exit ${code}`})`),
      );
    });
    const forwards = new SshForwards(child, target, ports);
    const deadline = Date.now() + OPEN_TIMEOUT_MS;
    let endedWith: string | undefined;
    void ended.then((why) => (endedWith = why));
    for (;;) {
      if (endedWith !== undefined) {
        forwards.forget();
        throw new CliError(
          `cannot forward the lab's ports from ${target.destination} over ssh: ${endedWith}; check \`ssh ${target.port ? `-p ${target.port} ` : ""}${target.destination}\` and that no program here holds ${ports.map((p) => p.port).join(", ")}`,
        );
      }
      const open = await Promise.all(ports.map(({ port }) => accepts(address, port)));
      if (open.every(Boolean) && endedWith === undefined) return forwards;
      if (Date.now() > deadline) {
        await forwards.close();
        throw new CliError(`the ssh forwards to ${target.destination} did not open within ${OPEN_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private forget(): void {
    this.closed = true;
    process.off("exit", this.onExit);
    for (const [signal] of ENDING_SIGNALS) process.off(signal, this.onSignal);
  }

  /** Ends ssh, which closes every forward, and waits until it has. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.forget();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}
