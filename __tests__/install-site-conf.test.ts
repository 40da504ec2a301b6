import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nginxTest, startNginx } from "./tools/nginx";
import { freeLoopbackPort } from "./tools/ports";

const INSTALLER = join(__dirname, "..", "assets", "load-balancer", "install-site-conf.sh");

function site(port: number, body: string): string {
  return `server {\n    listen 127.0.0.1:${port};\n    location / {\n        return 200 "${body}\\n";\n    }\n}\n`;
}

function install(nginxDir: string, rendered: string) {
  const renderedFile = join(mkdtempSync(join(tmpdir(), "consul-lab-rendered-")), "site.conf");
  writeFileSync(renderedFile, rendered);
  const result = spawnSync("sh", [INSTALLER, renderedFile, join(nginxDir, "conf.d", "site.conf")], {
    encoding: "utf8",
    env: { ...process.env, NGINX_CONF: join(nginxDir, "nginx.conf") },
  });
  return { code: result.status, stderr: result.stderr };
}

async function body(port: number): Promise<string> {
  // A reload replaces workers gracefully: for a moment an old one may still answer, or close the idle connection a
  // request was about to reuse. Either is asked again, for up to 10 s (a loaded 2-core machine starts workers late).
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= 100;
    const text = await fetch(`http://127.0.0.1:${port}/`).then(
      (response) => response.text(),
      (error: Error) => (last ? Promise.reject(error) : undefined),
    );
    if (text !== undefined && (last || !text.startsWith("old"))) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("install-site-conf (the load balancer's reload command)", () => {
  it("installs a valid render, which nginx serves once consul-template signals a reload", async () => {
    const port = await freeLoopbackPort();
    const nginx = await startNginx(site(port, "old"), port);
    try {
      const run = install(nginx.dir, site(port, "new"));
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`installed: ${join(nginx.dir, "conf.d", "site.conf")}`);
      // What consul-template's exec reload_signal (SIGHUP) does.
      nginx.reload();
      expect(await body(port)).toBe("new\n");
    } finally {
      await nginx.stop();
    }
  });

  it("keeps the last good config, and says so, when nginx rejects the render", async () => {
    const port = await freeLoopbackPort();
    const nginx = await startNginx(site(port, "old"), port);
    try {
      const broken = "upstream empty {\n}\nserver { listen 127.0.0.1:1; location / { proxy_pass http://empty; } }\n";
      expect(nginxTest(broken).ok).toBe(false);
      const run = install(nginx.dir, broken);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain("ERROR: nginx rejected the new config, keeping the last good one");
      expect(run.stderr).toContain("no servers are inside upstream");
      expect(readFileSync(join(nginx.dir, "conf.d", "site.conf"), "utf8")).toBe(site(port, "old"));
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("old\n");
    } finally {
      await nginx.stop();
    }
  });

  it("installs the first render when no config is live yet", async () => {
    const port = await freeLoopbackPort();
    const nginx = await startNginx(site(port, "old"), port);
    await nginx.stop();
    rmSync(join(nginx.dir, "conf.d", "site.conf"));
    const run = install(nginx.dir, site(port, "first"));
    expect(run.code).toBe(0);
    expect(readFileSync(join(nginx.dir, "conf.d", "site.conf"), "utf8")).toBe(site(port, "first"));
  });
});
