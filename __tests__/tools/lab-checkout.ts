/**
 * A throwaway copy of this checkout (node_modules linked, not copied) with recording fakes of `terraform` and `docker`
 * first on the PATH, for running the README's npm commands end to end without touching the real checkout's state,
 * secrets or outputs.
 */
import { ChildProcess, spawn } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./synth";

export const FAKES_BIN = join(__dirname, "fakes", "bin");

const COPIED = [
  "main.ts",
  "package.json",
  "cdktf.json",
  "tsconfig.json",
  "topology",
  "shared",
  "runtime",
  "verify",
  "renderers",
  "constructs",
  "stacks",
  "secrets",
  "cli",
  "scripts",
  "assets",
  "examples",
];

export interface Call {
  readonly program: "terraform" | "docker";
  readonly argv: string[];
  readonly cwd: string;
  readonly tfVars: string[];
  /** For Terraform: the variables its directory's variables files give it (`*.auto.tfvars.json`, links followed). */
  readonly fileVars: string[];
}

export interface NpmRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A healthy local engine with nothing of the lab on it yet. */
export const HEALTHY_DOCKER = {
  version: {
    Client: { Version: "28.2.2" },
    Server: { Version: "29.0.1", ApiVersion: "1.52", Os: "linux", Arch: "amd64" },
  },
  info: { Driver: "overlayfs", DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]] },
  networks: [{ Name: "bridge", Id: "b".repeat(64), IPAM: { Config: [{ Subnet: "172.17.0.0/16" }] } }],
  images: [] as string[],
  containers: [] as unknown[],
};

/**
 * The bundles and their code caches, file by file: another test's run may replace a code cache while this copies (V8
 * refused the old one), and a file that is gone by the time it is copied is simply not needed.
 */
function copyBuildCache(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (name.endsWith(".tmp")) continue;
    try {
      copyFileSync(join(from, name), join(to, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}

export class LabCheckout {
  readonly root = mkdtempSync(join(tmpdir(), "consul-lab-checkout-"));
  readonly log = join(this.root, ".fake-calls.jsonl");
  readonly dockerState = join(this.root, ".fake-docker.json");
  readonly routeTable = join(this.root, ".fake-route-table");

  constructor() {
    for (const entry of COPIED) cpSync(join(PROJECT_ROOT, entry), join(this.root, entry), { recursive: true });
    // The bundles Jest's globalSetup built: up to date in the copy too, as their inputs are the same files.
    copyBuildCache(join(PROJECT_ROOT, ".build"), join(this.root, ".build"));
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(this.root, "node_modules"), "dir");
    this.setDocker(HEALTHY_DOCKER);
    writeFileSync(this.routeTable, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n");
  }

  setDocker(state: unknown): void {
    writeFileSync(this.dockerState, JSON.stringify(state));
  }

  /** The environment a command runs with in the copy: the fakes first on the PATH, recording into the log. */
  private environment(env: Record<string, string>): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${FAKES_BIN}:${process.env.PATH}`,
      FAKE_LOG: this.log,
      FAKE_DOCKER_STATE: this.dockerState,
      CONSUL_LAB_ROUTE_TABLE: this.routeTable,
      CONSUL_LAB_TOPOLOGY: "",
      // As npm sets it for a script started from the copy's root (a relative topology path is resolved against it).
      INIT_CWD: this.root,
      ...env,
    };
  }

  /**
   * A CLI entry point run directly (`node scripts/run-ts.mjs ENTRY ARGS`), not through npm, as a service manager or
   * a test that signals it would; the log starts empty.
   */
  cli(entry: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    return this.spawnLogged(process.execPath, ["scripts/run-ts.mjs", entry, ...args], env);
  }

  /** `npm run <script> [-- args]` in the copy, with the fakes first on the PATH. */
  npm(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<NpmRun> {
    const separated = args.length > 0 ? ["--", ...args] : [];
    return this.finish(this.spawnLogged("npm", ["run", "--silent", script, ...separated], env));
  }

  /**
   * What `npm run <script> [-- args]` runs, without npm: the script's own command line from package.json, run in the
   * copy. npm adds about half a second to each command and nothing the CLI reads (a few tests still go through npm
   * itself), so most tests take this way.
   */
  script(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<NpmRun> {
    const command = JSON.parse(this.file("package.json")).scripts[script] as string | undefined;
    const words = command?.split(" ") ?? [];
    if (words[0] !== "node" || words.some((word) => !/^[\w./-]+$/.test(word)))
      throw new Error(`npm script ${script} is not a plain \`node ...\` command line: ${command}`);
    return this.finish(this.spawnLogged(process.execPath, [...words.slice(1), ...args], env));
  }

  /** `npx <args>` in the copy, as cdktf's documentation shows its commands (`npx cdktf deploy cluster consul`). */
  npx(args: string[], env: Record<string, string> = {}): Promise<NpmRun> {
    return this.finish(this.spawnLogged("npx", args, env));
  }

  private spawnLogged(command: string, args: string[], env: Record<string, string>): ChildProcess {
    writeFileSync(this.log, "");
    // Asynchronous, so a stand-in server in the test's own process can answer the command.
    return spawn(command, args, { cwd: this.root, stdio: ["ignore", "pipe", "pipe"], env: this.environment(env) });
  }

  private finish(child: ChildProcess): Promise<NpmRun> {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
  }

  /** What the last command run asked the fakes, in order. */
  calls(program?: Call["program"]): Call[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Call)
      .filter((call) => program === undefined || call.program === program);
  }

  file(path: string): string {
    return readFileSync(join(this.root, path), "utf8");
  }

  /** A server's certificate and key from the copy's TLS folder, which `npm run secrets` or a deploy made. */
  serverTls(node: string): { cert: string; key: string } {
    return {
      cert: this.file(`.secrets/tls/server-${node}.pem`),
      key: this.file(`.secrets/tls/server-${node}-key.pem`),
    };
  }
}
