/** `npm run doctor`'s checks, each failing on cue: a fake `docker` on the PATH, a port taken on loopback, a route. */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerCli } from "../runtime/docker-cli";
import { CheckResult, formatCheck, runDoctor } from "../cli/doctor";
import { isRemoteEngine, parseDockerEndpoint } from "../runtime/docker-endpoint";
import { createSecrets, ensureLabTls, generateSecrets, NEW_P256_KEY } from "../secrets";
import { articleInput, labOf } from "./tools/helpers";
import { FAKES_BIN, HEALTHY_DOCKER } from "./tools/lab-checkout";
import { freeLoopbackPort } from "./tools/ports";

const dir = mkdtempSync(join(tmpdir(), "consul-lab-doctor-"));
let taken: Server;
let takenPort: number;
let freePorts: number[];

beforeAll(async () => {
  const listen = () =>
    new Promise<Server>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    });
  taken = await listen();
  takenPort = (taken.address() as { port: number }).port;
  // Three ports nobody holds.
  freePorts = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
});
afterAll(() => new Promise((resolve) => taken.close(resolve)));

interface Setup {
  docker?: unknown;
  env?: Record<string, string>;
  routeTable?: string;
  tlsDir?: string;
  topology?: (input: ReturnType<typeof articleInput>) => void;
}

async function doctor(setup: Setup = {}): Promise<Record<string, CheckResult>> {
  const state = join(dir, `docker-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(state, JSON.stringify(setup.docker === undefined ? HEALTHY_DOCKER : setup.docker));
  const input = articleInput();
  // Ports nobody holds, unless a test says otherwise.
  input.publish = { httpPort: freePorts[0], dnsPort: freePorts[1], entryPort: freePorts[2] };
  setup.topology?.(input);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${FAKES_BIN}:${process.env.PATH}`,
    FAKE_DOCKER_STATE: state,
    CONSUL_LAB_SECRETS_FILE: join(dir, "absent.json"),
    ...setup.env,
  };
  // The machine's own DOCKER_HOST must not decide the test.
  if (!setup.env?.DOCKER_HOST) delete env.DOCKER_HOST;
  const results = await runDoctor({
    lab: labOf(input),
    env,
    docker: new DockerCli(env),
    routeTable: setup.routeTable ?? "",
    tlsDir: setup.tlsDir ?? join(dir, "no-tls-yet"),
  });
  return Object.fromEntries(results.map((result) => [result.check, result]));
}

const ROUTE_HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n";

describe("npm run doctor", () => {
  it("names the caller's variables that npm run's commands leave out of Terraform, and those it keeps", async () => {
    const results = await doctor({
      env: { CONSUL_HTTP_TOKEN: "another-clusters", TF_CLI_ARGS_plan: "-lock=false", TF_CLI_CONFIG_FILE: "/etc/tfrc" },
    });
    expect(results.environment).toEqual({
      check: "environment",
      ok: true,
      detail:
        "CONSUL_HTTP_TOKEN, TF_CLI_ARGS_plan set here: npm run's commands leave them out of Terraform, and npx cdktf refuses to run with them; TF_CLI_CONFIG_FILE reach Terraform (how it installs the pinned providers)",
    });
  });

  it("passes every check on a ready host, one line each", async () => {
    const results = await doctor();
    expect(Object.values(results).filter((result) => !result.ok)).toEqual([]);
    expect(Object.keys(results)).toEqual([
      "node",
      "terraform",
      "environment",
      "docker host",
      "docker engine",
      "image store",
      "ports",
      "subnet",
      "images",
      "secrets",
      "tls",
    ]);
    expect(formatCheck(results["docker engine"])).toBe("ok       docker engine: 29.0.1 (API 1.52, linux/amd64)");
    expect(results["image store"].detail).toContain("containerd");
  });

  it("refuses a remote engine it cannot forward the published ports from (not ssh://)", async () => {
    const results = await doctor({ env: { DOCKER_HOST: "tcp://10.0.0.5:2376" } });
    expect(results["docker host"]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("which this machine reaches only through SSH forwards"),
      fix: "use an ssh:// endpoint for that engine",
    });
  });

  it("accepts a remote engine over ssh://, and opens and closes the forwards a command would use", async () => {
    const log = join(dir, `ssh-${Date.now()}.jsonl`);
    const results = await doctor({ env: { DOCKER_HOST: "ssh://me@build-host:2222", FAKE_LOG: log } });
    expect(results["docker host"]).toMatchObject({ ok: true, detail: expect.stringContaining("forwards 127.0.0.1:") });
    expect(results["ports"]).toMatchObject({
      ok: true,
      detail: expect.stringContaining("the forwards' ports are free here"),
    });
    expect(results["ssh forwards"]).toMatchObject({ ok: true, detail: expect.stringContaining("from me@build-host") });
    const ssh = readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((call) => call.program === "ssh");
    expect(ssh.map((call) => call.event)).toEqual(["opened", "closed"]);
    expect(ssh[0].argv).toEqual([
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "BatchMode=yes",
      "-p",
      "2222",
      ...freePorts.flatMap((port) => ["-L", `127.0.0.1:${port}:127.0.0.1:${port}`]),
      "--",
      "me@build-host",
    ]);
  });

  it("names the ssh failure when the forwards cannot be opened", async () => {
    const results = await doctor({ env: { DOCKER_HOST: "ssh://me@build-host", FAKE_FAIL: "ssh:connect" } });
    expect(results["ssh forwards"]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("ssh: connect to host build-host port 22: Connection refused"),
    });
  });

  it.each([
    ["unix:///var/run/docker.sock", false],
    ["tcp://127.0.0.1:2375", false],
    ["tcp://[::1]:2376", false],
    ["tcp://localhost:2375", false],
    ["ssh://me@build-host", true],
    ["tcp://10.0.0.5:2376", true],
    ["tcp://[2001:db8::1]:2376", true],
  ])("tells a remote engine from this machine's: %s is remote: %s", async (host, remote) => {
    expect(isRemoteEngine(parseDockerEndpoint(host))).toBe(remote);
    // A remote engine over ssh:// is reached through forwards; any other is refused.
    expect((await doctor({ env: { DOCKER_HOST: host } }))["docker host"].ok).toBe(!remote || host.startsWith("ssh://"));
  });

  it("refuses an engine before 20.10, whose containers cannot bind port 80 without the capability the lab drops", async () => {
    const old = structuredClone(HEALTHY_DOCKER);
    old.version.Server.Version = "19.03.15";
    const results = await doctor({ docker: old });
    expect(results["docker engine"]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("19.03.15 is older than 20.10.0"),
      fix: "upgrade Docker to 20.10.0 or newer",
    });
  });

  it("says that an engine before 29 can need npm run repair after a reboot", async () => {
    const old = structuredClone(HEALTHY_DOCKER);
    old.version.Server.Version = "28.5.1";
    const results = await doctor({ docker: old });
    expect(results["docker engine"]).toMatchObject({ ok: true });
    expect(results["docker engine"].detail).toContain(
      "engines before 29 can leave containers exited after a reboot: run `npm run repair` then",
    );
  });

  it("names every pinned image that is neither local nor in its registry, before anything changes", async () => {
    const results = await doctor({
      docker: {
        ...HEALTHY_DOCKER,
        images: ["hashicorp/consul:1.20.6"],
        registry: ["nginx:1.27-alpine", "alpine:3.20"],
      },
    });
    expect(results.images).toMatchObject({ ok: false });
    expect(formatCheck(results.images)).toBe(
      "PROBLEM  images: not local, and their registry does not resolve them: hashicorp/consul-template:0.43.0 " +
        "(ERROR: hashicorp/consul-template:0.43.0: not found). Fix: correct the tag or digest under `images` in the " +
        "topology, log in to the registry (`docker login`), or load the image (`docker load`)",
    );
  });

  it("asks the registry with docker manifest inspect where buildx is missing, and accepts an image pinned by digest", async () => {
    const pinned = `nginx:1.27-alpine@sha256:${"a".repeat(64)}`;
    const results = await doctor({
      docker: {
        ...HEALTHY_DOCKER,
        buildx: false,
        registry: [pinned, "hashicorp/consul:1.20.6", "hashicorp/consul-template:0.43.0", "alpine:3.20"],
      },
      topology: (input) => (input.images = { nginx: pinned }),
    });
    expect(results.images).toMatchObject({ ok: true });
    expect(results.images.detail).toContain(`${pinned}`);
    expect(results.images.detail).toContain("will be pulled from their registry (each resolves there)");
  });

  it("reports an engine it cannot reach, with how to start it", async () => {
    const results = await doctor({ docker: null });
    expect(formatCheck(results["docker engine"])).toMatch(
      /^PROBLEM {2}docker engine: cannot reach the engine at unix:\/\/\/var\/run\/docker.sock: Cannot connect.*Fix: start Docker/,
    );
    expect(results.ports).toBeUndefined();
  });

  it.each([
    ["ssh://me@build-host:2222", "ssh -p 2222 me@build-host docker version"],
    ["ssh://me@[2001:db8::7]", "ssh me@2001:db8::7 docker version"],
    ["tcp://10.0.0.5:2376", "docker -H tcp://10.0.0.5:2376 version"],
  ])("tells how to check a remote engine it cannot reach: %s", async (host, check) => {
    const results = await doctor({ docker: null, env: { DOCKER_HOST: host } });
    expect(results["docker engine"].fix).toBe(`check that the host is up and that \`${check}\` works from here`);
  });

  it("names a Docker context that does not exist, instead of taking it for the local engine", async () => {
    const results = await doctor({
      docker: { ...HEALTHY_DOCKER, contexts: ["default"] },
      env: { DOCKER_CONTEXT: "typo" },
    });
    expect(results["docker host"]).toMatchObject({
      ok: false,
      detail: "context typo (not found: `docker context ls`)",
    });
  });

  it("reports a missing or old Terraform", async () => {
    expect((await doctor({ env: { TERRAFORM_BINARY_NAME: "no-such-terraform" } })).terraform).toMatchObject({
      ok: false,
      fix: expect.stringContaining("install Terraform"),
    });
    expect((await doctor({ env: { FAKE_TERRAFORM_VERSION: "1.3.9" } })).terraform).toMatchObject({
      ok: false,
      detail: "terraform 1.3.9 is older than 1.4.0",
    });
  });

  it("names a published port another process holds", async () => {
    const results = await doctor({ topology: (input) => (input.publish!.httpPort = takenPort) });
    expect(results.ports).toMatchObject({
      ok: false,
      detail: `taken: 127.0.0.1:${takenPort}/tcp (publish.httpPort: in use)`,
    });
  });

  it("accepts a port the lab's own container holds, as on a redeploy", async () => {
    const docker = {
      ...HEALTHY_DOCKER,
      containers: [
        {
          Names: "consul-lab-dev1001-net",
          Labels: "consul-lab.lab=consul-lab,consul-lab.node=dev1001,consul-lab.role=netns",
          State: "running",
          HostConfig: { PortBindings: { "8500/tcp": [{ HostIp: "127.0.0.1", HostPort: String(takenPort) }] } },
        },
        // Another lab's container on the same port does not make it the lab's own.
        {
          Names: "other-lab-dev1001-net",
          Labels: "consul-lab.lab=other-lab",
          State: "running",
          HostConfig: { PortBindings: { "8500/tcp": [{ HostIp: "127.0.0.1", HostPort: "1" }] } },
        },
      ],
    };
    const results = await doctor({ docker, topology: (input) => (input.publish!.httpPort = takenPort) });
    expect(results.ports.ok).toBe(true);
  });

  it("reports a subnet that overlaps another Docker network", async () => {
    const docker = {
      ...HEALTHY_DOCKER,
      networks: [
        ...HEALTHY_DOCKER.networks,
        { Name: "other-lab", Id: "c".repeat(64), IPAM: { Config: [{ Subnet: "10.0.0.0/16" }] } },
      ],
    };
    const results = await doctor({ docker });
    expect(results.subnet).toMatchObject({
      ok: false,
      detail: expect.stringContaining("10.0.1.0/24 overlaps Docker network other-lab (10.0.0.0/16)"),
    });
  });

  it("accepts the lab's own network and its bridge's route, as on a redeploy", async () => {
    const own = {
      Name: "consul-lab",
      Id: `abcdef012345${"0".repeat(52)}`,
      Labels: { "consul-lab.lab": "consul-lab" },
      IPAM: { Config: [{ Subnet: "10.0.1.0/24" }] },
    };
    // 10.0.1.0/24 on the lab's bridge, as the kernel lists it: little-endian hexadecimal.
    const routeTable = `${ROUTE_HEADER}br-abcdef012345\t0001000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
    const results = await doctor({ docker: { ...HEALTHY_DOCKER, networks: [own] }, routeTable });
    expect(results.subnet).toMatchObject({
      ok: true,
      detail: "10.0.1.0/24 is free (network consul-lab is the lab's own)",
    });
  });

  it.each([
    ["IPv6 on", { EnableIPv6: true, Options: { "com.docker.network.enable_ipv6": "false" } }, "IPv6 enabled"],
    [
      "an option the daemon added",
      {
        EnableIPv6: false,
        Options: { "com.docker.network.enable_ipv6": "false", "com.docker.network.driver.mtu": "1400" },
      },
      "the options com.docker.network.driver.mtu=1400",
    ],
  ])("reports the lab's network read back with %s, which would replace it on every plan", async (_what, read, seen) => {
    const own = {
      Name: "consul-lab",
      Id: `abcdef012345${"0".repeat(52)}`,
      Driver: "bridge",
      Labels: { "consul-lab.lab": "consul-lab" },
      IPAM: { Config: [{ Subnet: "10.0.1.0/24" }] },
      ...read,
    };
    const results = await doctor({ docker: { ...HEALTHY_DOCKER, networks: [own] } });
    expect(results.subnet).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        `the lab's network consul-lab reads back ${seen}, which its configuration does not say`,
      ),
    });
  });

  it("never takes a network of the lab's name but without its label (someone else's, or a built-in) for the lab's own", async () => {
    const impostor = {
      Name: "consul-lab",
      Id: "f".repeat(64),
      Labels: {},
      IPAM: { Config: [{ Subnet: "10.0.1.0/24" }] },
    };
    const results = await doctor({ docker: { ...HEALTHY_DOCKER, networks: [impostor] } });
    expect(results.subnet).toMatchObject({
      ok: false,
      detail: expect.stringContaining("Docker network consul-lab (10.0.1.0/24)"),
    });
  });

  it("reports a subnet that overlaps a host route, such as a VPN's", async () => {
    const routeTable = `${ROUTE_HEADER}eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\ntun0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n`;
    const results = await doctor({ routeTable });
    expect(results.subnet).toMatchObject({
      ok: false,
      detail: expect.stringContaining("host route 10.0.0.0/16 on tun0"),
    });
  });

  it("reports a host without openssl, which makes a secure lab's certificates", async () => {
    const bin = mkdtempSync(join(dir, "bin-"));
    // Only what the other checks run, so that openssl is the one thing missing.
    for (const tool of ["terraform", "node"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      if (found) symlinkSync(found, join(bin, tool));
    }
    const results = await doctor({ env: { PATH: `${FAKES_BIN}:${bin}` } });
    expect(results.tls).toMatchObject({ ok: false, detail: expect.stringContaining("openssl does not run here") });
    expect(results.tls.fix).toContain("apt-get install openssl");
  });

  it("reports the lab's CA when it expires within 30 days, and accepts one made by the deploy", async () => {
    const tlsDir = mkdtempSync(join(dir, "tls-"));
    ensureLabTls(labOf(), tlsDir);
    expect((await doctor({ tlsDir })).tls).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/valid for 18\d\d more days/),
    });
    const expiring = mkdtempSync(join(dir, "tls-expiring-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        ...NEW_P256_KEY,
        "-keyout",
        join(expiring, "ca-key.pem"),
        "-out",
        join(expiring, "ca.pem"),
        "-days",
        "10",
        "-subj",
        "/CN=old",
      ],
      { stdio: "ignore" },
    );
    expect((await doctor({ tlsDir: expiring })).tls).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/expires in (9|10) day\(s\)/),
      fix: expect.stringContaining("move it away"),
    });
  });

  it("reports a secrets file others can read", async () => {
    const file = join(dir, "open-secrets.json");
    createSecrets(file, generateSecrets());
    chmodSync(file, 0o644);
    const results = await doctor({ env: { CONSUL_LAB_SECRETS_FILE: file } });
    expect(results.secrets).toMatchObject({ ok: false, detail: expect.stringContaining("can be read by other users") });
  });

  it("says which pinned images will be pulled", async () => {
    const results = await doctor({ docker: { ...HEALTHY_DOCKER, images: ["hashicorp/consul:1.20.6"] } });
    expect(results.images.detail).toBe(
      "nginx:1.27-alpine, hashicorp/consul-template:0.43.0, alpine:3.20 will be pulled from their registry (each resolves there); 2 images are built from assets/",
    );
  });

  it("ends a problem's sentence once, even when Docker's own words end it", () => {
    expect(
      formatCheck({ check: "docker engine", ok: false, detail: "Is the docker daemon running?", fix: "start Docker" }),
    ).toBe("PROBLEM  docker engine: Is the docker daemon running? Fix: start Docker");
    expect(formatCheck({ check: "ports", ok: false, detail: "8500 is taken", fix: "free it" })).toBe(
      "PROBLEM  ports: 8500 is taken. Fix: free it",
    );
  });
});
