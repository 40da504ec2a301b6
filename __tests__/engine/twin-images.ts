/**
 * The twin lab's images, built at test time from this machine's Debian packages and the twin's Go programs, with the
 * paths, users and entrypoints of the images the synth names, so the synthesized command, user, capabilities,
 * read-only roots and uploads are used as they are. Each image is a root filesystem made here and imported
 * (`docker import`): the engine cannot pull.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../tools/synth";
import { goBinary } from "./engine";

interface Owned {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

export interface TwinImageSpec {
  readonly tag: string;
  /** Programs of this machine, copied to the same path with every library `ldd` names. */
  readonly programs?: readonly string[];
  /** Files by their path in the image: copied from this machine, or written. */
  readonly files?: Record<string, ({ from: string } | { text: string }) & Owned>;
  readonly dirs?: Record<string, Owned>;
  /** Symbolic links by their path in the image, to their target. */
  readonly links?: Record<string, string>;
  /** The image's `docker import --change` lines (ENTRYPOINT, CMD, USER, ENV, VOLUME, STOPSIGNAL). */
  readonly changes: readonly string[];
}

const BUSYBOX = spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim();

function copyWithParents(from: string, root: string, to: string = from): void {
  const target = join(root, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(from, target);
  chmodSync(target, 0o755);
}

/** A program and the shared libraries it loads, as `ldd` lists them, at their own paths. */
function copyProgram(program: string, root: string): void {
  copyWithParents(program, root);
  const ldd = spawnSync("ldd", [program], { encoding: "utf8" });
  for (const match of ldd.stdout.matchAll(/(\/\S+) \(0x/g)) copyWithParents(match[1], root);
}

/** Builds an image from its spec once per engine run (its tag names what it holds); the tag. */
export function buildTwinImage(spec: TwinImageSpec, env: NodeJS.ProcessEnv = process.env): string {
  const present = spawnSync("docker", ["image", "inspect", spec.tag], { env });
  if (present.status === 0) return spec.tag;
  const root = mkdtempSync(join(process.env.CONSUL_LAB_ENGINE_DIR ?? "/tmp", "twin-rootfs-"));
  // The image's `/`: mkdtemp makes it owner-only, which would keep every other user out of the whole image.
  chmodSync(root, 0o755);
  // BusyBox for the shell and the tools a healthcheck or an entrypoint runs, as Alpine's images have them.
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  const applets = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const applet of applets)
    if (applet !== "busybox") spawnSync("ln", ["-sf", "busybox", join(root, "bin", applet)]);
  // wget with -T that works (twin-wget.sh says why).
  spawnSync("rm", ["-f", join(root, "bin", "wget")]);
  copyFileSync(join(__dirname, "twin-wget.sh"), join(root, "bin", "wget"));
  chmodSync(join(root, "bin", "wget"), 0o755);
  for (const dir of ["tmp", "etc", "root", "var/run", "run"]) mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  for (const program of spec.programs ?? []) copyProgram(program, root);
  for (const [path, owned] of Object.entries(spec.dirs ?? {})) {
    mkdirSync(join(root, path), { recursive: true });
    chownSync(join(root, path), owned.uid ?? 0, owned.gid ?? 0);
    chmodSync(join(root, path), owned.mode ?? 0o755);
  }
  for (const [path, file] of Object.entries(spec.files ?? {})) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    if ("from" in file) copyFileSync(file.from, target);
    else writeFileSync(target, file.text);
    chownSync(target, file.uid ?? 0, file.gid ?? 0);
    chmodSync(target, file.mode ?? 0o644);
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  const tar = spawnSync("tar", ["-C", root, "--numeric-owner", "-c", "."], { maxBuffer: 1 << 30 });
  if (tar.status !== 0) throw new Error(`tar of ${spec.tag}'s root failed: ${tar.stderr}`);
  // `docker import` takes every change the images use but STOPSIGNAL, which a one-line build on top adds.
  const buildOnly = spec.changes.filter((change) => change.startsWith("STOPSIGNAL "));
  const imported = buildOnly.length > 0 ? `${spec.tag}-imported` : spec.tag;
  const args = ["import"];
  for (const change of spec.changes.filter((line) => !buildOnly.includes(line))) args.push("--change", change);
  const importing = spawnSync("docker", [...args, "-", imported], { input: tar.stdout, env, encoding: "buffer" });
  if (importing.status !== 0) throw new Error(`docker import of ${spec.tag} failed: ${importing.stderr}`);
  if (buildOnly.length > 0) {
    const dockerfile = [`FROM ${imported}`, ...buildOnly].join("\n");
    const built = spawnSync("docker", ["build", "--quiet", "--tag", spec.tag, "-"], {
      input: dockerfile,
      env: { ...env, DOCKER_BUILDKIT: "0" },
      encoding: "utf8",
    });
    if (built.status !== 0) throw new Error(`docker build of ${spec.tag} failed: ${built.stderr}`);
  }
  return spec.tag;
}

const PASSWD_ROOT = "root:x:0:0:root:/root:/bin/sh\n";
const GROUP_ROOT = "root:x:0:\n";

/**
 * The official hashicorp/consul image as the lab runs it: `consul` at /bin/consul (the twin), the `consul` user (uid
 * 100, gid 1000, as the image's `adduser -S -G consul consul` on Alpine makes it), /consul/data and /consul/config
 * owned by it, curl and jq (which the image installs and the maintenance handler uses), and its entrypoint: for
 * `agent`, the data and config dirs, their chown when root owns them, then the drop to the `consul` user with su-exec
 * (.release/docker/docker-entrypoint.sh of hashicorp/consul, mirrored in twin-consul-entrypoint.sh).
 */
export function consulTwinImage(env: NodeJS.ProcessEnv = process.env): string {
  return buildTwinImage(
    {
      tag: "consul-lab-twin/consul:1.20",
      programs: ["/usr/bin/curl", "/usr/bin/jq"],
      files: {
        "/bin/consul": { from: goBinary("consul-twin"), mode: 0o755 },
        "/sbin/su-exec": { from: goBinary("su-exec"), mode: 0o755 },
        "/usr/local/bin/docker-entrypoint.sh": { from: join(__dirname, "twin-consul-entrypoint.sh"), mode: 0o755 },
        "/consul-twin/config-keys.json": {
          from: join(PROJECT_ROOT, "__tests__", "twin", "consul-1.20-config-keys.json"),
        },
        "/etc/passwd": { text: `${PASSWD_ROOT}consul:x:100:1000:Linux User,,,:/home/consul:/sbin/nologin\n` },
        "/etc/group": { text: `${GROUP_ROOT}consul:x:1000:consul\n` },
      },
      dirs: { "/consul/data": { uid: 100, gid: 1000 }, "/consul/config": { uid: 100, gid: 1000 } },
      changes: [
        "ENV PATH=/usr/local/bin:/usr/bin:/bin:/sbin",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["agent", "-dev", "-client", "0.0.0.0"]',
        'VOLUME ["/consul/data"]',
      ],
    },
    env,
  );
}

/**
 * The lines of one of the lab's own Dockerfiles (assets/<name>/Dockerfile) that say how its image runs (ENTRYPOINT,
 * CMD, STOPSIGNAL), as `docker import --change` lines: the twin image runs the way the lab's image does, read from the
 * one place that says it.
 */
function runLinesOf(asset: string): string[] {
  const dockerfile = readFileSync(join(PROJECT_ROOT, "assets", asset, "Dockerfile"), "utf8");
  return dockerfile
    .split("\n")
    .filter((line) => /^(ENTRYPOINT|CMD|STOPSIGNAL) /.test(line))
    .map((line) => line.trim());
}

/**
 * The lab's dnsmasq image (assets/dnsmasq/Dockerfile: dnsmasq on Alpine, run by its ENTRYPOINT), with Debian's dnsmasq
 * at Alpine's path and the users dnsmasq drops to.
 */
export function dnsmasqTwinImage(env: NodeJS.ProcessEnv = process.env): string {
  return buildTwinImage(
    {
      tag: "consul-lab-twin/dnsmasq:latest",
      programs: ["/usr/sbin/dnsmasq"],
      files: {
        "/etc/passwd": {
          text: `${PASSWD_ROOT}dnsmasq:x:100:101:dnsmasq:/var/lib/misc:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n`,
        },
        "/etc/group": { text: `${GROUP_ROOT}dnsmasq:x:101:dnsmasq\ndip:x:30:\nnogroup:x:65534:\n` },
      },
      dirs: { "/etc/dnsmasq.d": {}, "/var/lib/misc": {} },
      changes: ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...runLinesOf("dnsmasq")],
    },
    env,
  );
}

/** The official nginx image's layout (nginx:1.27-alpine) that the lab's uploads and commands rely on. */
function nginxFiles(): Pick<TwinImageSpec, "programs" | "files" | "dirs" | "links"> {
  return {
    programs: ["/usr/sbin/nginx"],
    files: {
      "/etc/nginx/mime.types": { from: "/etc/nginx/mime.types" },
      // The image's user and group nginx (uid and gid 101).
      "/etc/passwd": { text: `${PASSWD_ROOT}nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n` },
      "/etc/group": { text: `${GROUP_ROOT}nginx:x:101:nginx\n` },
      "/docker-entrypoint.sh": { from: join(__dirname, "twin-nginx-entrypoint.sh"), mode: 0o755 },
    },
    // Debian's nginx keeps its temporary files under /var/lib/nginx (the official image's under /var/cache/nginx).
    dirs: {
      "/etc/nginx/conf.d": {},
      "/var/cache/nginx": {},
      "/var/lib/nginx": {},
      "/var/log/nginx": {},
      "/usr/share/nginx/html": {},
    },
    // As the official image: the logs go to the container's output.
    links: { "/var/log/nginx/access.log": "/dev/stdout", "/var/log/nginx/error.log": "/dev/stderr" },
  };
}

/** nginx:1.27-alpine as the lab runs it: nginx in the foreground, logs to the container's output. */
export function nginxTwinImage(env: NodeJS.ProcessEnv = process.env): string {
  return buildTwinImage(
    {
      tag: "consul-lab-twin/nginx:latest",
      ...nginxFiles(),
      changes: [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'ENTRYPOINT ["/docker-entrypoint.sh"]',
        'CMD ["nginx", "-g", "daemon off;"]',
        "STOPSIGNAL SIGQUIT",
      ],
    },
    env,
  );
}

/**
 * The lab's load balancer image (assets/load-balancer/Dockerfile): nginx, the consul-template twin where the image
 * has consul-template, the lab's install-site-conf, and the image's ENTRYPOINT, CMD and STOPSIGNAL.
 */
export function loadBalancerTwinImage(env: NodeJS.ProcessEnv = process.env): string {
  const nginx = nginxFiles();
  return buildTwinImage(
    {
      tag: "consul-lab-twin/load-balancer:latest",
      ...nginx,
      files: {
        ...nginx.files,
        "/usr/local/bin/consul-template": { from: goBinary("consul-template-twin"), mode: 0o755 },
        "/usr/local/bin/install-site-conf": {
          from: join(PROJECT_ROOT, "assets", "load-balancer", "install-site-conf.sh"),
          mode: 0o755,
        },
      },
      dirs: { ...nginx.dirs, "/etc/consul-template/templates": {}, "/etc/consul-template/rendered": {} },
      changes: [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ...runLinesOf("load-balancer"),
      ],
    },
    env,
  );
}
