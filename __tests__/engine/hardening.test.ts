/**
 * Each kind of container does its job with exactly the hardening the app synthesized for its role
 * (constructs/container-hardening.ts): every capability dropped but its role's, no-new-privileges, a memory ceiling,
 * a read-only root where the table says so. The programs are the real ones where this machine has them (Debian's
 * nginx and dnsmasq, started as the official images start them: as root, dropping to their own user); Consul's image
 * is not here, so its entrypoint's two privileged steps (chown of the data volume, then su-exec to the consul user)
 * run with BusyBox. Each capability is also taken away once, to show the role needs it.
 */
import { renderDnsmasqConf } from "../../renderers";
import { labOf } from "../tools/helpers";
import { debianImage } from "./debian-image";
import {
  docker,
  dockerOk,
  engineApi,
  hardeningArgs,
  removeLab,
  synthesizedCluster,
  TEST_IMAGE,
  uniqueLab,
} from "./engine";

jest.setTimeout(120_000);

let lab: Awaited<ReturnType<typeof uniqueLab>>;
let cluster: ReturnType<typeof synthesizedCluster>;
const NGINX_IMAGE = "consul-lab-test/nginx:engine";
const DNSMASQ_IMAGE = "consul-lab-test/dnsmasq:engine";
const USERS = {
  "/etc/passwd":
    "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nconsul:x:100:1000:consul:/consul:/bin/sh\ndnsmasq:x:101:65534:dnsmasq:/var/lib/misc:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "/etc/group": "root:x:0:\nwww-data:x:33:\nconsul:x:1000:\nnogroup:x:65534:\n",
};
// As the official nginx image: a root-owned cache folder, whose temp folders the master makes for its workers' user.
const NGINX_CONF = `user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path /var/cache/nginx/client_temp;
  proxy_temp_path /var/cache/nginx/proxy_temp;
  fastcgi_temp_path /var/cache/nginx/fastcgi_temp;
  uwsgi_temp_path /var/cache/nginx/uwsgi_temp;
  scgi_temp_path /var/cache/nginx/scgi_temp;
  server { listen 80; location / { return 200 "served\\n"; } }
}
`;

beforeAll(async () => {
  lab = await uniqueLab();
  cluster = synthesizedCluster(lab.topologyFile);
  debianImage(NGINX_IMAGE, ["/usr/sbin/nginx"], {
    ...USERS,
    "/etc/nginx/nginx.conf": NGINX_CONF,
    "/var/cache/nginx/.keep": "",
    "/var/log/nginx/.keep": "",
    "/run/.keep": "",
  });
  debianImage(DNSMASQ_IMAGE, ["/usr/sbin/dnsmasq"], {
    ...USERS,
    "/etc/dnsmasq.d/consul-lab.conf": renderDnsmasqConf(labOf(lab.input)),
    "/var/lib/misc/.keep": "",
    "/var/run/.keep": "",
  });
});

afterAll(() => {
  docker(["rm", "--force", "--volumes", ...started]);
  removeLab(lab.name);
});

/** The synthesized container of a node's role. */
const synthesized = (suffix: string) =>
  Object.values<any>(cluster.container).find((body) => body.name === `${lab.name}-${suffix}`);

/** The synthesized hardening with one capability taken away. */
const without = (body: any, capability: string) => ({
  ...body,
  capabilities: { ...body.capabilities, add: body.capabilities.add.filter((c: string) => c !== capability) },
});

const started: string[] = [];
let runs = 0;

/** Runs `image` with a synthesized container's hardening and `command`, and waits up to `seconds` for `probe`. */
async function runsAndAnswers(
  body: any,
  image: string,
  command: string[],
  probe: string[],
  expected: RegExp,
  extra: string[] = [],
  seconds = 10,
): Promise<{ answered: boolean; logs: string }> {
  const name = `${lab.name}-hardening-${++runs}`;
  started.push(name);
  dockerOk([
    "run",
    "--detach",
    "--name",
    name,
    ...hardeningArgs(body),
    ...extra,
    "--entrypoint",
    command[0],
    image,
    ...command.slice(1),
  ]);
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    // A probe that hangs (a master without workers accepts and never answers) is cut off, as BusyBox's timeout does.
    const seen = docker(["exec", name, "timeout", "3", ...probe]);
    if (expected.test(seen.stdout)) return { answered: true, logs: "" };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { answered: false, logs: docker(["logs", name]).stderr };
}

describe("a load balancer's and a page's nginx", () => {
  const NGINX = ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"];
  const PROBE = ["wget", "-qO-", "http://127.0.0.1/"];

  it.each(["load-balancer", "app", "sorry"])(
    "serves on port 80 with the %s role's hardening, as its workers' user",
    async (role) => {
      const suffix =
        role === "load-balancer" ? "dev1002-load-balancer" : role === "app" ? "dev1004-app" : "dev1006-sorry";
      const body = synthesized(suffix);
      expect(body.capabilities.drop).toEqual(["ALL"]);
      expect(body.security_opts).toEqual(["no-new-privileges:true"]);
      const run = await runsAndAnswers(body, NGINX_IMAGE, NGINX, PROBE, /^served$/m);
      expect(run).toEqual({ answered: true, logs: "" });
      const workers = docker(["exec", `${lab.name}-hardening-${runs}`, "ps", "-o", "user,args"]).stdout;
      expect(workers).toMatch(/www-data\s+nginx: worker process/);
    },
  );

  it.each(["CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"])("does not start without %s", async (capability) => {
    const body = without(synthesized("dev1002-load-balancer"), capability);
    const run = await runsAndAnswers(body, NGINX_IMAGE, NGINX, PROBE, /^served$/m, [], 4);
    expect(run.answered).toBe(false);
    expect(run.logs).toMatch(/emerg|failed|Operation not permitted|Permission denied/);
  });
});

describe("a node's dnsmasq", () => {
  const DNSMASQ = [
    "/usr/sbin/dnsmasq",
    "--keep-in-foreground",
    "--log-facility=-",
    "--conf-file=/etc/dnsmasq.d/consul-lab.conf",
    // A name it answers itself, so the test sees an answer without a Consul agent behind it.
    "--address=/probe.test/10.9.9.9",
  ];
  const PROBE = ["nslookup", "probe.test", "127.0.0.1"];

  it("answers on the node's port 53 with the dns role's hardening, as its own user", async () => {
    const body = synthesized("dev1004-dns");
    const run = await runsAndAnswers(body, DNSMASQ_IMAGE, DNSMASQ, PROBE, /10\.9\.9\.9/);
    expect(run).toEqual({ answered: true, logs: "" });
    expect(docker(["exec", `${lab.name}-hardening-${runs}`, "ps", "-o", "user,args"]).stdout).toMatch(
      // Debian's build drops to nobody, Alpine's to dnsmasq: never root.
      /^(nobody|dnsmasq)\s+\/usr\/sbin\/dnsmasq/m,
    );
  });

  it.each(["CAP_SETUID", "CAP_SETGID"])("does not start without %s", async (capability) => {
    const run = await runsAndAnswers(
      without(synthesized("dev1004-dns"), capability),
      DNSMASQ_IMAGE,
      DNSMASQ,
      PROBE,
      /10\.9\.9\.9/,
      [],
      4,
    );
    expect(run.answered).toBe(false);
  });
});

describe("a Consul agent's entrypoint steps", () => {
  // What the official image's docker-entrypoint.sh does as root before Consul runs: chown the data volume, then
  // su-exec to the consul user, who writes there.
  const STEPS = [
    "/bin/sh",
    "-c",
    "chown 100:1000 /consul/data && su consul -s /bin/sh -c 'echo written > /consul/data/probe' && sleep 3600",
  ];
  const PROBE = ["cat", "/consul/data/probe"];
  const image = () => {
    debianImage("consul-lab-test/entrypoint:engine", [], { ...USERS, "/consul/data/.keep": "" });
    return "consul-lab-test/entrypoint:engine";
  };

  it("chowns its data volume and drops to the consul user with the agent role's hardening", async () => {
    const run = await runsAndAnswers(synthesized("dev1004"), image(), STEPS, PROBE, /^written$/m, [
      "--volume",
      `${lab.name}-hardening-data:/consul/data`,
    ]);
    expect(run).toEqual({ answered: true, logs: "" });
    expect(
      docker(["exec", `${lab.name}-hardening-${runs}`, "stat", "-c", "%u", "/consul/data/probe"]).stdout.trim(),
    ).toBe("100");
  });

  it.each(["CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"])("cannot do them without %s", async (capability) => {
    const volume = `${lab.name}-hardening-data-${capability.toLowerCase()}`;
    const run = await runsAndAnswers(
      without(synthesized("dev1004"), capability),
      image(),
      STEPS,
      PROBE,
      /^written$/m,
      ["--volume", `${volume}:/consul/data`],
      4,
    );
    expect(run.answered).toBe(false);
    docker(["volume", "rm", "--force", volume]);
  });
});

describe("a node's namespace container", () => {
  it("sleeps on a read-only root without a single capability", async () => {
    const body = synthesized("dev1004-net");
    expect(body.read_only).toBe(true);
    expect(body.capabilities).toEqual({ drop: ["ALL"] });
    const run = await runsAndAnswers(body, TEST_IMAGE, body.entrypoint, ["echo", "alive"], /^alive$/m);
    expect(run).toEqual({ answered: true, logs: "" });
    const write = docker(["exec", `${lab.name}-hardening-${runs}`, "touch", "/written"]);
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain("Read-only file system");
  });
});

describe("the engine's read-back of the hardening", () => {
  it("opens ports below 1024 to any process in a container's network namespace, so no role keeps CAP_NET_BIND_SERVICE", async () => {
    const body = synthesized("dev1004-net");
    const run = await runsAndAnswers(
      body,
      TEST_IMAGE,
      body.entrypoint,
      ["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"],
      /^0$/m,
    );
    expect(run).toEqual({ answered: true, logs: "" });
    const kept = Object.values<any>(cluster.container).flatMap((container) => container.capabilities?.add ?? []);
    expect(kept).not.toContain("CAP_NET_BIND_SERVICE");
  });

  it("stores capability names as the API is sent them, which is why the table writes them as CAP_*", async () => {
    // Through the API, as the provider sends them: the engine keeps each name as given, so only the form the table
    // writes (and the engine reports) reads back equal to the configuration.
    const created: Record<string, any> = {};
    for (const [suffix, add, drop] of [
      ["as-written", ["CAP_CHOWN"], ["ALL"]],
      ["lowercase", ["chown"], ["all"]],
    ] as const) {
      const name = `${lab.name}-hardening-${suffix}`;
      started.push(name);
      const create = await engineApi("POST", `/containers/create?name=${name}`, {
        Image: TEST_IMAGE,
        HostConfig: { CapAdd: add, CapDrop: drop },
      });
      expect(create.status).toBe(201);
      created[suffix] = (await engineApi("GET", `/containers/${name}/json`)).json.HostConfig;
    }
    expect([created["as-written"].CapAdd, created["as-written"].CapDrop]).toEqual([["CAP_CHOWN"], ["ALL"]]);
    expect([created.lowercase.CapAdd, created.lowercase.CapDrop]).toEqual([["chown"], ["all"]]);
    // The Docker CLI, not the engine, turns `chown` into CAP_CHOWN.
    const name = `${lab.name}-hardening-cli`;
    started.push(name);
    dockerOk(["create", "--name", name, "--cap-drop", "all", "--cap-add", "chown", TEST_IMAGE]);
    expect(JSON.parse(dockerOk(["inspect", name]))[0].HostConfig.CapAdd).toEqual(["CAP_CHOWN"]);
  });

  it("fills memory_swap in by itself, which is why it is ignored on read-back", () => {
    const name = `${lab.name}-hardening-swap`;
    started.push(name);
    dockerOk(["create", "--name", name, "--memory", "64m", TEST_IMAGE]);
    expect(JSON.parse(dockerOk(["inspect", name]))[0].HostConfig.MemorySwap).toBe(2 * 64 * 1024 * 1024);
  });
});
