/**
 * A throwaway copy of this checkout (node_modules linked, not copied) with recording fakes of `terraform` and `docker`
 * first on the PATH, for running the README's npm commands end to end without touching the real checkout's state,
 * secrets or outputs.
 */
import { ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../synth";

export const FAKES_BIN = join(__dirname, "fakes", "bin");

const COPIED = [
  "main.ts",
  "package.json",
  "cdktf.json",
  "tsconfig.json",
  "topology",
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

export class LabCheckout {
  readonly root = mkdtempSync(join(tmpdir(), "consul-lab-checkout-"));
  readonly log = join(this.root, ".fake-calls.jsonl");
  readonly dockerState = join(this.root, ".fake-docker.json");
  readonly routeTable = join(this.root, ".fake-route-table");

  constructor() {
    for (const entry of COPIED) cpSync(join(PROJECT_ROOT, entry), join(this.root, entry), { recursive: true });
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
      ...env,
    };
  }

  /**
   * A CLI entry point run directly (`node scripts/run-ts.mjs ENTRY ARGS`), not through npm, as a service manager or
   * a test that signals it would; the log starts empty.
   */
  cli(entry: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    writeFileSync(this.log, "");
    return spawn(process.execPath, ["scripts/run-ts.mjs", entry, ...args], {
      cwd: this.root,
      stdio: ["ignore", "pipe", "pipe"],
      env: this.environment(env),
    });
  }

  /** `npm run <script> [-- args]` in the copy, with the fakes first on the PATH. */
  npm(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<NpmRun> {
    writeFileSync(this.log, "");
    // Asynchronous, so a stand-in server in the test's own process can answer the command.
    const child = spawn("npm", ["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])], {
      cwd: this.root,
      stdio: ["ignore", "pipe", "pipe"],
      env: this.environment(env),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
  }

  /** What the last `npm` run asked the fakes, in order. */
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
}
