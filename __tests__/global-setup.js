// Jest's globalSetup: what every test file shares, prepared once per run before any worker starts (workers inherit
// this process's environment).
// - the programs the tests need (preflight.js);
// - one temporary directory for the run (TMPDIR), removed by global-teardown.js with everything tests left in it;
// - the bundles the npm scripts run, built unless up to date (copies of the checkout reuse them);
// - the default lab, synthesized once (tools/synth.ts's sharedDefaultRun);
// - the fake daemon that answers the fake `docker` and `terraform` (tools/fakes).
const { spawn, spawnSync } = require("node:child_process");
const { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const preflight = require("./preflight");

const ROOT = join(__dirname, "..");

/** Every entry point the npm scripts and cdktf.json run through scripts/run-ts.mjs. */
function bundledEntries() {
  const commands = [
    ...Object.values(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts),
    JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")).app,
  ];
  return [...new Set(commands.flatMap((command) => /run-ts\.mjs (\S+\.ts)/.exec(command)?.slice(1) ?? []))];
}

function run(args, env = {}) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result;
}

/** The app on the default lab, into `dir`/default-lab, with its exit status and stderr beside it. */
function synthesizeDefaultLab(dir) {
  const outdir = join(dir, "default-lab");
  const result = run(["scripts/run-ts.mjs", "main.ts"], { CONSUL_LAB_TOPOLOGY: "", CDKTF_OUTDIR: outdir });
  writeFileSync(`${outdir}.json`, JSON.stringify({ status: result.status, stderr: result.stderr }));
  return outdir;
}

/** Starts tools/fakes/fake-daemon.mjs; resolves to its port. */
async function startFakeDaemon() {
  const daemon = spawn(process.execPath, [join(__dirname, "tools", "fakes", "fake-daemon.mjs")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise((resolve, reject) => {
    daemon.stdout.once("data", (chunk) => resolve(String(chunk).trim()));
    daemon.once("exit", (code) => reject(new Error(`the fake daemon exited (${code}) before it listened`)));
  });
  // Its stdin is its lifeline: it exits when Jest does, even if the teardown never runs. Neither keeps Jest running.
  daemon.stdout.destroy();
  daemon.stdin.unref();
  daemon.unref();
  return { daemon, port };
}

module.exports = async function globalSetup() {
  try {
    preflight();
  } catch (error) {
    // What is missing and how to install it, without Jest's stack trace around it.
    console.error(`\n${error.message}\n`);
    process.exit(1);
  }
  const testRunDir = realpathSync(mkdtempSync(join(tmpdir(), "consul-lab-test-run-")));
  try {
    // Traversable like /tmp itself: nginx's workers run as another user and read document roots made under it.
    chmodSync(testRunDir, 0o755);
    process.env.TMPDIR = testRunDir;
    process.env.CONSUL_LAB_TEST_RUN_DIR = testRunDir;
    const built = run(["scripts/run-ts.mjs", "--build", ...bundledEntries()]);
    if (built.status !== 0) throw new Error(`building the bundles failed:\n${built.stderr}`);
    process.env.CONSUL_LAB_TEST_DEFAULT_SYNTH = synthesizeDefaultLab(testRunDir);
    const { daemon, port } = await startFakeDaemon();
    process.env.FAKE_DAEMON_PORT = port;
    globalThis.consulLabTestRun = { daemon, testRunDir };
  } catch (error) {
    rmSync(testRunDir, { recursive: true, force: true });
    throw error;
  }
};
