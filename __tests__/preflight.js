// Jest's globalSetup: every program the tests run generated files through, checked once before any test starts, so
// a machine without one gets a single list of what to install instead of scattered failures or a hung helper. Then
// it builds the bundles the npm scripts run, once (test files and their copies of the checkout reuse them), and
// starts the fake daemon that answers the fake `docker` and `terraform` (tools/fakes) for every test file.
const { spawn, spawnSync } = require("node:child_process");
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");

const PROGRAMS = [
  {
    command: "bash",
    why: "runs the fake docker and terraform (bash 4 or later, for read -N)",
    debian: "preinstalled",
    macos: "brew install bash",
    works: () => spawnSync("bash", ["-c", "((BASH_VERSINFO[0] >= 4))"]).status === 0,
  },
  {
    command: "terraform",
    why: "evaluates uploaded files (terraform console)",
    debian: "see https://developer.hashicorp.com/terraform/install",
    macos: "brew install hashicorp/tap/terraform",
  },
  {
    command: "nginx",
    why: "checks every nginx config (nginx -t) and serves test traffic",
    debian: "apt-get install nginx",
    macos: "brew install nginx",
  },
  {
    command: "dnsmasq",
    why: "checks the forwarder config and answers DNS tests",
    debian: "apt-get install dnsmasq-base",
    macos: "brew install dnsmasq",
  },
  {
    command: "shellcheck",
    why: "lints every shell script",
    debian: "apt-get install shellcheck",
    macos: "brew install shellcheck",
  },
  {
    command: "jq",
    why: "the maintenance handler parses health with it",
    debian: "apt-get install jq",
    macos: "brew install jq",
  },
  {
    command: "curl",
    why: "the maintenance handler and ops scripts call Consul with it",
    debian: "apt-get install curl",
    macos: "preinstalled",
  },
  {
    command: "go",
    why: "runs templates through Go's text/template",
    debian: "apt-get install golang-go",
    macos: "brew install go",
  },
  {
    command: "dig",
    why: "queries the DNS forwarding tests",
    debian: "apt-get install bind9-dnsutils",
    macos: "preinstalled",
  },
];

function found(command) {
  if (["/usr/sbin", "/usr/local/sbin", "/sbin"].some((dir) => existsSync(`${dir}/${command}`))) return true;
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

/** Starts tools/fakes/fake-daemon.mjs and tells every test worker its port; it exits when Jest does. */
async function startFakeDaemon() {
  const daemon = spawn(process.execPath, [join(__dirname, "tools", "fakes", "fake-daemon.mjs")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    daemon.stdout.once("data", (chunk) => resolve(String(chunk).trim()));
    daemon.once("exit", (code) => reject(new Error(`the fake daemon exited (${code}) before it listened`)));
  });
  // Workers start after globalSetup and inherit this environment.
  process.env.FAKE_DAEMON_PORT = port;
  // Neither the pipe to its stdin (its lifeline) nor the process keeps Jest running.
  daemon.stdout.destroy();
  daemon.stdin.unref?.();
  daemon.unref();
}

/** Every entry point the npm scripts and cdktf.json run through scripts/run-ts.mjs, built unless up to date. */
function buildBundles() {
  const commands = [
    ...Object.values(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts),
    JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")).app,
  ];
  const entries = [...new Set(commands.flatMap((command) => /run-ts\.mjs (\S+\.ts)/.exec(command)?.slice(1) ?? []))];
  const result = spawnSync(process.execPath, ["scripts/run-ts.mjs", "--build", ...entries], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`building ${entries.join(", ")} failed:\n${result.stderr}`);
}

module.exports = async function preflight() {
  const missing = PROGRAMS.filter((program) => !found(program.command) || (program.works && !program.works()));
  if (missing.length === 0) {
    buildBundles();
    return startFakeDaemon();
  }
  const lines = missing.map(
    (program) =>
      `  ${program.command}: ${program.why}\n    Debian/Ubuntu: ${program.debian}\n    macOS: ${program.macos}`,
  );
  throw new Error(
    `npm test needs ${missing.length} program(s) that are not installed (.ci/run installs them on Debian):\n${lines.join("\n")}`,
  );
};
