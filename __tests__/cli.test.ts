/**
 * The README's commands, run end to end with `npm run` in a copy of the checkout, with recording fakes of `terraform`
 * and `docker` first on the PATH: the order of stacks, what reaches Terraform and how, and how failures stop a run.
 */
import type { Server } from "node:http";
import { COMMAND_NAMES, usageOf } from "../cli/usage";
import { createServer } from "node:https";
import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { articleInput, CLUSTER_STACK_VARIABLES, CONSUL_STACK_VARIABLES } from "./tools/helpers";
import { HEALTHY_DOCKER, LabCheckout } from "./tools/lab-checkout";
import { filesIn, listFiles } from "./tools/synth";
import { freeLoopbackPort } from "./tools/ports";

/**
 * What the consul stack's diff and destroy ask first: is there a Consul at the published address? Over HTTPS, with
 * the certificate the checkout's deploy made for the publishing server.
 */
async function fakeConsulLeader(port: number, checkout: LabCheckout): Promise<Server> {
  const server = createServer(checkout.serverTls("dev1001"), (request, response) => {
    response.end(request.url === "/v1/status/leader" ? '"10.0.1.1:8300"' : "");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

/** What the CLI asked Terraform, as `<dir>: <argv>`; the cdktf CLI's own `terraform version` probes left out. */
const terraformCommands = (checkout: LabCheckout) =>
  checkout
    .calls("terraform")
    .filter((call) => call.argv.join(" ") !== "version")
    .map(
      (call) =>
        `${call.cwd.split("/").pop()}: ${call.argv
          .filter((arg) => !arg.startsWith("-no-color"))
          .join(" ")
          .replace(/\/\S*\/consul-lab-plan-\w+\/\w+\.tfplan/g, "<plan>")}`,
    );

// Each command bundles and runs the real CLI and app: seconds, not milliseconds, on a busy 2-core machine.
jest.setTimeout(60_000);

describe("the npm commands, against recording fakes of terraform and docker", () => {
  const checkout = new LabCheckout();
  let topologyFile: string;
  let httpPort: number;

  beforeAll(async () => {
    // Free ports for the lab to publish, so the doctor's port check passes whatever else runs on this machine.
    const [http, dns, entry] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
    httpPort = http;
    const input = articleInput();
    input.publish = { httpPort: http, dnsPort: dns, entryPort: entry };
    topologyFile = join(checkout.root, "lab.json");
    writeFileSync(topologyFile, JSON.stringify(input));
  });

  /** The script's command line, run without npm (see LabCheckout.script); `viaNpm` for the ones npm runs itself. */
  const run = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
    checkout.script(script, args, { CONSUL_LAB_TOPOLOGY: topologyFile, ...env });
  const viaNpm = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
    checkout.npm(script, args, { CONSUL_LAB_TOPOLOGY: topologyFile, ...env });

  it("runs every CLI command through one entry point, so npm run and its command line are the same thing", () => {
    const scripts = JSON.parse(checkout.file("package.json")).scripts;
    for (const command of COMMAND_NAMES) expect(scripts[command]).toBe(`node scripts/run-ts.mjs cli/lab.ts ${command}`);
    expect(scripts.verify).toBe("node scripts/run-ts.mjs verify/main.ts");
  });

  it.each([
    ["synth", ["--topology", "x"], '"--topology", "x"; it takes no options'],
    ["deploy", ["--skip-docter"], '"--skip-docter"; it takes --skip-doctor'],
    ["destroy", ["--yes"], '"--yes"; it takes --auto-approve'],
  ])("refuses an option %s does not know, before it does anything", async (command, args, message) => {
    const result = await run(command, args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`consul-lab: ${command} does not take ${message}`);
    expect(checkout.calls()).toEqual([]);
  });

  it.each(COMMAND_NAMES.filter((name) => name !== "cdktf"))(
    "%s answers --help with its usage from the options table, and does nothing else",
    async (name) => {
      const result = await run(name, ["--help"]);
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
      expect(result.stdout).toBe(usageOf(name));
      expect(checkout.calls()).toEqual([]);
    },
  );

  it("answers --help through npm as well", async () => {
    const result = await viaNpm("deploy", ["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(usageOf("deploy"));
  });

  it("synth writes cdktf.out with the app alone, without calling terraform", async () => {
    const result = await viaNpm("synth");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(existsSync(join(checkout.root, "cdktf.out", "stacks", "cluster", "cdk.tf.json"))).toBe(true);
    expect(JSON.parse(checkout.file("cdktf.out/manifest.json")).stacks.consul.dependencies).toEqual(["cluster"]);
    expect(checkout.calls("terraform")).toEqual([]);
  });

  it("doctor prints one line per check and exits 0 on a ready host", async () => {
    const result = await run("doctor");
    expect(result.status).toBe(0);
    const lines = result.stdout.split("\n").filter((line) => /^(ok|PROBLEM) /.test(line));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((line) => line.startsWith("ok "))).toBe(true);
    expect(result.stdout).toContain("doctor: the host is ready");
    expect(checkout.calls("docker").some((call) => ["build", "stop", "start", "run"].includes(call.argv[0]))).toBe(
      false,
    );
  });

  it("the README's own-topology flow writes the effective topology to labs/ and synthesizes from it", async () => {
    const topology = await checkout.npm("topology", []);
    expect(topology.status).toBe(0);
    mkdirSync(join(checkout.root, "labs"), { recursive: true });
    const edited = JSON.parse(topology.stdout);
    // Every default is written in, the derived ones too.
    expect(edited.network.gateway).toBe("10.0.1.254");
    expect(edited.publish.node).toBe("dev1001");
    expect(edited.services.map((service: any) => service.check.path)).toEqual(["/_health", "/_health", "/", "/"]);
    expect(edited.containers.memoryMb.agent).toBe(256);
    // Read back and printed again, it is the same text.
    writeFileSync(join(checkout.root, "labs", "printed.json"), topology.stdout);
    expect((await checkout.npm("topology", [], { CONSUL_LAB_TOPOLOGY: "labs/printed.json" })).stdout).toBe(
      topology.stdout,
    );
    edited.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    edited.services[2].nodes.push("dev1007");
    writeFileSync(join(checkout.root, "labs", "my-lab.json"), JSON.stringify(edited));
    const result = await checkout.script("synth", [], { CONSUL_LAB_TOPOLOGY: "labs/my-lab.json" });
    expect(result.status).toBe(0);
    expect(checkout.file("cdktf.out/stacks/cluster/cdk.tf.json")).toContain('"name": "consul-lab-dev1007"');
  });

  it("gives Terraform only the engine the CLI talks to: DOCKER_HOST, never a context or a stray certificate folder", async () => {
    expect((await run("secrets")).status).toBe(0);
    const result = await run("diff", [], {
      DOCKER_HOST: "ssh://ops@lab-server",
      DOCKER_CONTEXT: "someone-elses",
      DOCKER_CERT_PATH: "/tmp/stray-certs",
      // The remote host's forwards: the fake ssh on the PATH opens them.
      FAKE_SSH_REMOTE_ADDRESS: "127.0.0.2",
    });
    expect(result.status).toBe(0);
    const seen = (checkout.calls("terraform") as unknown as { docker?: Record<string, string> }[]).map(
      (call) => call.docker,
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((docker) => JSON.stringify(docker)))).toEqual(
      new Set([JSON.stringify({ DOCKER_HOST: "ssh://ops@lab-server" })]),
    );
  });

  it("diff before the first deploy plans the cluster and says why the consul stack waits", async () => {
    expect((await run("secrets")).status).toBe(0);
    const result = await run("diff");
    expect(result.status).toBe(0);
    expect(terraformCommands(checkout)).toEqual([
      "cluster: init -input=false",
      "cluster: plan -input=false -out=<plan>",
      "cluster: show -json <plan>",
    ]);
    expect(result.stdout).toMatch(/cluster: \d+ to add, 0 to change, 0 to destroy/);
    expect(result.stdout).toContain(
      "consul: not planned: it configures what the cluster stack runs, and cluster is not deployed yet",
    );
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it("deploy runs the doctor first, builds the images, then applies cluster before consul and writes outputs.json", async () => {
    const result = await viaNpm("deploy");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    // The doctor ran first, every check passing (which checks, in which order: doctor.test.ts).
    const doctorLines = result.stdout.split("\n").filter((line) => /^(ok|PROBLEM) /.test(line));
    expect(doctorLines.length).toBeGreaterThan(5);
    expect(doctorLines.every((line) => line.startsWith("ok "))).toBe(true);
    expect(result.stdout.indexOf(doctorLines[doctorLines.length - 1])).toBeLessThan(
      result.stdout.indexOf("build-image"),
    );
    const docker = checkout.calls("docker").map((call) => call.argv.slice(0, 3).join(" "));
    const builds = checkout.calls("docker").filter((call) => call.argv.includes("--tag"));
    const firstBuild = docker.findIndex((call) => call.startsWith("buildx build"));
    expect(docker.slice(0, firstBuild)).toContain("version --format {{json .}}");
    // buildx with --load, so a container builder still leaves the image in the engine's store.
    expect(builds.map((call) => call.argv.slice(0, 3).join(" "))).toEqual([
      "buildx build --load",
      "buildx build --load",
    ]);
    expect(builds.map((call) => call.argv[call.argv.indexOf("--tag") + 1])).toEqual([
      expect.stringMatching(/^consul-lab-load-balancer:[0-9a-f]{12}$/),
      expect.stringMatching(/^consul-lab-dnsmasq:[0-9a-f]{12}$/),
    ]);
    expect(terraformCommands(checkout)).toEqual(
      [
        "consul-lab: version -json",
        "cluster: init -input=false",
        "cluster: plan -input=false -out=<plan>",
        "cluster: show -json <plan>",
        "cluster: apply -input=false <plan>",
        "cluster: output -json",
        "consul: init -input=false",
        "consul: plan -input=false -out=<plan>",
        "consul: show -json <plan>",
        "consul: apply -input=false <plan>",
        "consul: output -json",
      ].map((line) => line.replace("consul-lab:", `${checkout.root.split("/").pop()}:`)),
    );
    const outputs = JSON.parse(checkout.file("outputs.json"));
    expect(Object.keys(outputs)).toEqual(["cluster", "consul", "imageDigests"]);
    expect(outputs.cluster.entry_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(outputs.cluster.nodes.dev1004).toEqual({ address: "10.0.1.4", role: "client", workload: "app" });
    expect(result.stdout).toMatch(
      /deploy summary:\n {2}cluster: applied \(\d+ to add, 0 to change, 0 to destroy\)\n {2}consul: applied/,
    );
  });

  it("deploy says what each pulled tag resolved to, the first time and when it changes, and keeps it in outputs.json", async () => {
    const digest = (letter: string) => `sha256:${letter.repeat(64)}`;
    const engine = (nginx: string) => ({
      ...HEALTHY_DOCKER,
      images: ["nginx:1.27-alpine", "hashicorp/consul:1.20.6", "alpine:3.20"],
      repoDigests: {
        "nginx:1.27-alpine": [`nginx@${nginx}`],
        "hashicorp/consul:1.20.6": [`hashicorp/consul@${digest("c")}`, `mirror.example/consul@${digest("d")}`],
        // A tag loaded from a file, not pulled: no digest to say.
        "alpine:3.20": [],
      },
    });
    try {
      checkout.setDocker(engine(digest("a")));
      const first = await run("deploy", ["--skip-doctor"]);
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(
        `images.nginx nginx:1.27-alpine resolved to nginx@${digest("a")}; to keep these bytes, set images.nginx to "nginx:1.27-alpine@${digest("a")}"`,
      );
      expect(first.stdout).toContain(
        `images.consul hashicorp/consul:1.20.6 resolved to hashicorp/consul@${digest("c")}`,
      );
      expect(first.stdout).toContain(
        "images.dnsmasqBase alpine:3.20: no digest known (not pulled into the engine's image store)",
      );
      expect(JSON.parse(checkout.file("outputs.json")).imageDigests).toEqual({
        "nginx:1.27-alpine": `nginx@${digest("a")}`,
        "hashicorp/consul:1.20.6": `hashicorp/consul@${digest("c")}`,
      });
      // The same bytes again: nothing to say. Other bytes under the same tag: said, with the last deploy's.
      const again = await run("deploy", ["--skip-doctor"]);
      expect(again.stdout).not.toMatch(/images\.(nginx|consul) .* resolved to/);
      checkout.setDocker(engine(digest("b")));
      const moved = await run("deploy", ["--skip-doctor"]);
      expect(moved.stdout).toContain(
        `images.nginx nginx:1.27-alpine resolved to nginx@${digest("b")} (last deploy: nginx@${digest("a")})`,
      );
      expect(JSON.parse(checkout.file("outputs.json")).imageDigests["nginx:1.27-alpine"]).toBe(`nginx@${digest("b")}`);
    } finally {
      checkout.setDocker(HEALTHY_DOCKER);
    }
  });

  it("gives Terraform the secrets only through each stack's owner-only variables file, never on a command line, in its environment or in cdktf.out", async () => {
    await run("deploy");
    const secrets = JSON.parse(checkout.file(".secrets/consul-lab.json"));
    const values = [secrets.gossipKey, secrets.managementToken];
    const calls = checkout.calls("terraform").filter((call) => call.argv[0] !== "version");
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) {
      expect(call.tfVars).toEqual([]);
      expect(call.fileVars).toEqual(call.cwd.endsWith("/cluster") ? CLUSTER_STACK_VARIABLES : CONSUL_STACK_VARIABLES);
      for (const value of values) expect(call.argv.join(" ")).not.toContain(value);
    }
    for (const stack of ["cluster", "consul"]) {
      const file = join(checkout.root, ".secrets", "terraform", `${stack}.auto.tfvars.json`);
      expect({ stack, mode: statSync(file).mode & 0o777 }).toEqual({ stack, mode: 0o600 });
      expect(readlinkSync(join(checkout.root, "cdktf.out", "stacks", stack, "secrets.auto.tfvars.json"))).toBe(
        `../../../.secrets/terraform/${stack}.auto.tfvars.json`,
      );
    }
    expect(statSync(join(checkout.root, ".secrets", "terraform")).mode & 0o777).toBe(0o700);
    // The TLS material the deploy made: the CA's and the servers' keys owner-only, the CA linked for the scripts.
    for (const key of ["ca-key.pem", "server-dev1001-key.pem", "server-dev1003-key.pem"]) {
      expect({ key, mode: statSync(join(checkout.root, ".secrets", "tls", key)).mode & 0o777 }).toEqual({
        key,
        mode: 0o600,
      });
    }
    expect(readlinkSync(join(checkout.root, "cdktf.out", "stacks", "cluster", "lab-ca.pem"))).toBe(
      "../../../.secrets/tls/ca.pem",
    );
    // Every file under cdktf.out, including what Terraform leaves there (a saved plan holds variables); a link as
    // the path it holds.
    const written = Object.entries(filesIn(join(checkout.root, "cdktf.out")));
    expect(written.length).toBeGreaterThan(2);
    for (const [file, text] of written)
      for (const value of values) expect({ file, leaks: text.includes(value) }).toEqual({ file, leaks: false });
  });

  /** A deployed lab, for the tests that start from one: each passes alone (`-t`), whatever ran before it. */
  const deployed = async () => {
    const result = await run("deploy");
    // What it printed is in the diff when it fails.
    expect({ status: result.status, output: result.status === 0 ? "" : result.stdout + result.stderr }).toEqual({
      status: 0,
      output: "",
    });
  };

  it("keeps the state, which Terraform writes with secrets in clear, readable by its owner only", async () => {
    await deployed();
    const state = join(checkout.root, "state");
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const files = listFiles(state);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect({ file, mode: statSync(file).mode & 0o777 }).toEqual({ file, mode: 0o600 });
  });

  it("diff of a deployed lab plans both stacks in order, and summarizes each", async () => {
    await deployed();
    const consulApi = await fakeConsulLeader(httpPort, checkout);
    const result = await run("diff");
    await new Promise((resolve) => consulApi.close(resolve));
    expect(result.status).toBe(0);
    expect(terraformCommands(checkout).filter((line) => line.includes(" plan "))).toEqual([
      "cluster: plan -input=false -out=<plan>",
      "consul: plan -input=false -out=<plan>",
    ]);
    expect(result.stdout).toMatch(
      /diff summary:\n {2}cluster: 0 to add, 0 to change, 0 to destroy\n {2}consul: 0 to add, 0 to change, 0 to destroy/,
    );
  });

  it("a failing apply stops the run with a clear line and a non-zero exit, before the next stack", async () => {
    const result = await run("deploy", [], { FAKE_FAIL: "terraform:apply:cluster" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("consul-lab: terraform apply of stack cluster failed (exit 1); see above");
    expect(terraformCommands(checkout).some((line) => line.startsWith("consul:"))).toBe(false);
  });

  it("cdktf diff of one stack works through `npm run cdktf`, with the secrets in the stack's variables file", async () => {
    expect((await run("secrets")).status).toBe(0);
    const result = await run("cdktf", ["diff", "cluster"], { CI: "true" });
    expect(result.status).toBe(0);
    const plans = checkout.calls("terraform").filter((call) => call.argv[0] === "plan");
    expect(plans.map((call) => call.cwd.split("/").pop())).toEqual(["cluster"]);
    expect(plans[0].fileVars).toEqual(CLUSTER_STACK_VARIABLES);
    // cdktf saves its plan, with every variable, in the stack's directory: gone once the command returns.
    const secrets = JSON.parse(checkout.file(".secrets/consul-lab.json"));
    for (const [file, text] of Object.entries(filesIn(join(checkout.root, "cdktf.out"))))
      expect({ file, leaks: text.includes(secrets.managementToken) }).toEqual({ file, leaks: false });
  });

  it("diff of a deployed lab whose Consul does not answer says so instead of planning the consul stack", async () => {
    await deployed();
    const result = await run("diff");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /consul: not planned: Consul's API at 127\.0\.0\.1:\d+ does not answer \(.*\); is the lab running\?/,
    );
    expect(terraformCommands(checkout).some((line) => line.startsWith("consul:"))).toBe(false);
  });

  it("passes a SIGTERM on to a running Terraform, waits for it, and touches no further stack", async () => {
    // The CLI itself, not npm, as a service manager would signal it.
    const child = checkout.cli("cli/lab.ts", ["deploy", "--skip-doctor"], {
      CONSUL_LAB_TOPOLOGY: topologyFile,
      FAKE_SLOW: "apply:cluster",
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    // Once the apply says it is under way, as a real one does.
    const deadline = Date.now() + 30_000;
    while (!stdout.includes("Still creating...") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGTERM");
    const exit = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    expect(exit).toBe(143);
    expect(checkout.calls("terraform").map((call) => call.argv.join(" "))).toContain("<signal> SIGTERM");
    expect(terraformCommands(checkout).some((line) => line.startsWith("consul:"))).toBe(false);
    expect(stderr).toContain("consul-lab: interrupted (SIGTERM)");
  });

  it("destroy refuses to run unattended without --auto-approve, and changes nothing", async () => {
    await deployed();
    const result = await run("destroy");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "destroy asks before it deletes anything; run it in a terminal, or pass --auto-approve",
    );
    expect(terraformCommands(checkout)).toEqual([]);
  });

  it("destroy --auto-approve destroys consul before cluster", async () => {
    await deployed();
    const consulApi = await fakeConsulLeader(httpPort, checkout);
    const result = await run("destroy", ["--auto-approve"]);
    await new Promise((resolve) => consulApi.close(resolve));
    expect(result.status).toBe(0);
    expect(terraformCommands(checkout).filter((line) => / (plan|apply) /.test(line))).toEqual([
      "consul: plan -input=false -destroy -out=<plan>",
      "consul: apply -input=false <plan>",
      "cluster: plan -input=false -destroy -out=<plan>",
      "cluster: apply -input=false <plan>",
    ]);
    expect(result.stdout).toMatch(/consul: destroyed .*\n {2}cluster: destroyed/);
    // The state before the destroy, which Terraform kept with every secret in clear, is gone with it.
    expect(readdirSync(join(checkout.root, "state")).filter((file) => file.endsWith(".backup"))).toEqual([]);
  });

  it("destroy of a lab whose Consul does not answer sets the consul stack's state aside and destroys the cluster", async () => {
    await deployed();
    const result = await run("destroy", ["--auto-approve"]);
    expect(result.status).toBe(0);
    expect(terraformCommands(checkout).filter((line) => / (plan|apply) /.test(line))).toEqual([
      "cluster: plan -input=false -destroy -out=<plan>",
      "cluster: apply -input=false <plan>",
    ]);
    expect(result.stdout).toMatch(
      /consul: Consul does not answer \(.*\); its state was set aside as .*state\/consul\.tfstate\.set-aside/,
    );
    expect(existsSync(join(checkout.root, "state", "consul.tfstate.set-aside"))).toBe(true);
  });

  it("deploy stops before any change when the doctor finds a problem", async () => {
    checkout.setDocker(null);
    try {
      const result = await run("deploy");
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(
        /^PROBLEM {2}docker engine: cannot reach the engine at unix:\/\/\/var\/run\/docker.sock: Cannot connect to the Docker daemon.*Fix: start Docker/m,
      );
      expect(result.stderr).toContain("consul-lab: the host is not ready; nothing was changed");
      expect(terraformCommands(checkout)).toEqual([expect.stringMatching(/: version -json$/)]);
      expect(checkout.calls("docker").some((call) => call.argv[0] === "build")).toBe(false);
    } finally {
      checkout.setDocker(HEALTHY_DOCKER);
    }
  });

  it("diff without a secrets file stops before Terraform with the way to create one", async () => {
    const missing = join(checkout.root, "never-created", "consul-lab.json");
    const result = await run("diff", [], { CONSUL_LAB_SECRETS_FILE: missing });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`consul-lab: no secrets file at ${missing}; run \`npm run secrets\``);
    expect(existsSync(missing)).toBe(false);
    expect(terraformCommands(checkout)).toEqual([]);
  });

  it("an invalid topology stops every command with its problems and no stack trace", async () => {
    const bad = join(checkout.root, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...articleInput(), nodes: [] }));
    for (const script of ["synth", "diff", "deploy", "doctor"]) {
      const result = await run(script, [], { CONSUL_LAB_TOPOLOGY: bad });
      expect({ script, status: result.status }).toEqual({ script, status: 1 });
      expect(result.stderr).toContain("is not a valid topology");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
