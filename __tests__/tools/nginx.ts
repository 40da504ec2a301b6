/** Runs Debian's real nginx on generated configuration: `nginx -t`, or a server on a loopback port. */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface NginxCheck {
  readonly ok: boolean;
  readonly output: string;
}

/** A main nginx.conf that includes `serverBlocks` inside `http {}`, as the official image's conf.d does. */
function writeMainConf(serverBlocks: string): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-nginx-"));
  mkdirSync(join(dir, "conf.d"));
  writeFileSync(join(dir, "conf.d", "site.conf"), serverBlocks);
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    [
      "daemon off;",
      "worker_processes 1;",
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      "events { worker_connections 64; }",
      "http {",
      "    access_log off;",
      `    client_body_temp_path ${dir}/body;`,
      `    proxy_temp_path ${dir}/proxy;`,
      `    fastcgi_temp_path ${dir}/fastcgi;`,
      `    uwsgi_temp_path ${dir}/uwsgi;`,
      `    scgi_temp_path ${dir}/scgi;`,
      `    include ${dir}/conf.d/*.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  return { dir, conf };
}

/** `nginx -t` on server blocks as they would sit in conf.d/. */
export function nginxTest(serverBlocks: string): NginxCheck {
  const { dir, conf } = writeMainConf(serverBlocks);
  const result = spawnSync("nginx", ["-t", "-p", dir, "-e", `${dir}/error.log`, "-c", conf], { encoding: "utf8" });
  if (result.error) throw new Error(`cannot run nginx (apt-get install nginx): ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

export interface RunningNginx {
  readonly dir: string;
  /** SIGHUP: re-read the configuration, as consul-template's exec reload_signal does. */
  reload(): void;
  /**
   * Writes new server blocks where the configuration includes them, checks them with `nginx -t`, and reloads; a
   * config nginx refuses is replaced by the last good one again, as the load balancers' installer does.
   */
  replace(serverBlocks: string): NginxCheck;
  /** `nginx -T`: the configuration nginx would load now, every file of it, as the real load balancers' verify reads. */
  dump(): string;
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground on the given server blocks; resolves once it has bound its ports (it writes its pid
 * file only then) and `port` answers, so an answer from whatever else might hold the port never counts.
 */
export async function startNginx(serverBlocks: string, port: number, address = "127.0.0.1"): Promise<RunningNginx> {
  const { dir, conf } = writeMainConf(serverBlocks);
  const child: ChildProcess = spawn("nginx", ["-p", dir, "-e", `${dir}/error.log`, "-c", conf], { stdio: "ignore" });
  const pidFile = `${dir}/nginx.pid`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const bound = existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() === String(child.pid);
    if (
      bound &&
      (await fetch(`http://${address}:${port}/`, { redirect: "manual" }).then(
        () => true,
        () => false,
      ))
    )
      break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      const log = existsSync(`${dir}/error.log`) ? readFileSync(`${dir}/error.log`, "utf8").trim() : "";
      throw new Error(`nginx did not start on ${address}:${port}${log ? `: ${log}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    dir,
    reload: () => {
      child.kill("SIGHUP");
    },
    replace: (serverBlocks) => {
      const site = join(dir, "conf.d", "site.conf");
      const lastGood = readFileSync(site, "utf8");
      writeFileSync(site, serverBlocks);
      const checked = spawnSync("nginx", ["-t", "-p", dir, "-e", `${dir}/error.log`, "-c", conf], { encoding: "utf8" });
      if (checked.status === 0) child.kill("SIGHUP");
      else writeFileSync(site, lastGood);
      return { ok: checked.status === 0, output: `${checked.stdout}${checked.stderr}`.trim() };
    },
    dump: () => {
      const dumped = spawnSync("nginx", ["-T", "-p", dir, "-e", `${dir}/error.log`, "-c", conf], { encoding: "utf8" });
      return `${dumped.stderr}${dumped.stdout}`;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGQUIT");
      }),
  };
}

/** GET over loopback with an explicit Host header (fetch does not let a caller set one). */
export function httpGet(port: number, path: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, headers: host ? { Host: host } : {} }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.end();
  });
}
