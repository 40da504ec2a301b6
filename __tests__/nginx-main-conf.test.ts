/**
 * The main nginx.conf every nginx of the lab runs with: a fixed number of workers instead of the image's one per host
 * CPU, accepted by the real nginx with the lab's own server blocks, and uploaded into every container that runs nginx.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { NGINX_MAIN_CONF, NGINX_WORKER_PROCESSES, renderNginxMainConf } from "../renderers";
import { asTerraformReadsIt } from "../constructs/terraform-literal";
import { sharedDefaultRun } from "./tools/synth";

describe("the main nginx.conf", () => {
  it("sets a fixed number of workers, never one per host CPU", () => {
    const conf = renderNginxMainConf();
    expect(conf).toMatch(new RegExp(`^worker_processes\\s+${NGINX_WORKER_PROCESSES};$`, "m"));
    expect(conf).not.toMatch(/worker_processes\s+auto/);
  });

  it("passes nginx -t with every server block of the default lab included", () => {
    const run = sharedDefaultRun();
    const dir = mkdtempSync(join(tmpdir(), "consul-lab-nginx-main-"));
    mkdirSync(join(dir, "conf.d"));
    // Every server block the lab's nginx containers include, each node's in its own file.
    const rendered = join(run.outdir, "rendered");
    let blocks = 0;
    for (const node of readdirSync(rendered)) {
      const confd = join(rendered, node, "etc", "nginx", "conf.d");
      let files: string[] = [];
      try {
        files = readdirSync(confd);
      } catch {
        continue;
      }
      for (const file of files) {
        // Upstream names and server names repeat across nodes; nginx -t checks one node's files at a time.
        const nodeDir = join(dir, "conf.d", node);
        mkdirSync(nodeDir, { recursive: true });
        writeFileSync(join(nodeDir, file), readFileSync(join(confd, file)));
        blocks++;
      }
    }
    expect(blocks).toBeGreaterThan(0);
    for (const node of readdirSync(join(dir, "conf.d"))) {
      // This machine has no `nginx` user and writes its pid and logs under the test's folder; the rest is as uploaded.
      const conf = renderNginxMainConf()
        .replace("user  nginx;", `user  ${userInfo().username};`)
        .replace("/var/run/nginx.pid", join(dir, "nginx.pid"))
        .replace(/\/var\/log\/nginx\//g, `${dir}/`)
        .replace("include /etc/nginx/conf.d/*.conf;", `include ${join(dir, "conf.d", node)}/*.conf;`);
      writeFileSync(join(dir, "nginx.conf"), conf);
      const result = spawnSync(
        "nginx",
        ["-t", "-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf")],
        {
          encoding: "utf8",
        },
      );
      expect({ node, output: result.status === 0 ? "ok" : result.stderr }).toEqual({ node, output: "ok" });
    }
  });

  it("is uploaded into every container that runs nginx", () => {
    const stack = JSON.parse(sharedDefaultRun().files["stacks/cluster/cdk.tf.json"]);
    const containers = Object.values<any>(stack.resource.docker_container);
    const runsNginx = containers.filter((container) =>
      (container.upload ?? []).some((upload: { file: string }) => upload.file.startsWith("/etc/nginx/conf.d/")),
    );
    expect(runsNginx.length).toBeGreaterThanOrEqual(6);
    for (const container of runsNginx) {
      const main = container.upload.find((upload: { file: string }) => upload.file === NGINX_MAIN_CONF);
      expect({ container: container.name, main: main && asTerraformReadsIt(main.content) }).toEqual({
        container: container.name,
        main: renderNginxMainConf(),
      });
    }
  });
});
