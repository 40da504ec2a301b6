import { spawnSync } from "node:child_process";
import { createServer, get } from "node:http";
import {
  LOAD_BALANCER_PATHS,
  loadBalancerJob,
  renderConsulTemplateConfigJson,
  renderConsulUiVhost,
  renderEntryPointConf,
  renderUpstreamTemplate,
} from "../renderers";
import { articleInput, labOf } from "./tools/helpers";
import { httpGet, nginxTest, startNginx } from "./tools/nginx";
import { freeLoopbackPort } from "./tools/ports";
import { sharedDefaultRun } from "./tools/synth";
import { PROXY_CONNECT_TIMEOUT_MS, SITE_REQUEST_TIMEOUT_MS } from "../shared/lab-contract";

const lab = labOf();

describe("the consul-template config", () => {
  const json = renderConsulTemplateConfigJson(lab, loadBalancerJob());
  const config = JSON.parse(json);

  it("is JSON that jq reads back unchanged", () => {
    const result = spawnSync("jq", ["-S", "."], { input: json, encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(config);
  });

  it("talks to the local agent with its token file and never gives up retrying", () => {
    expect(config.consul).toEqual({
      address: "127.0.0.1:8500",
      token_file: LOAD_BALANCER_PATHS.consulToken,
      retry: { enabled: true, attempts: 0, backoff: "250ms", max_backoff: "30s" },
    });
    expect(config).toMatchObject({ log_level: "info", max_stale: "10m", wait: { min: "2s", max: "10s" } });
  });

  it("supervises nginx and installs each render through the validating installer", () => {
    expect(config.exec).toEqual({
      command: ["nginx", "-g", "daemon off;"],
      reload_signal: "SIGHUP",
      kill_signal: "SIGQUIT",
      kill_timeout: "10s",
      env: { denylist: ["CONSUL_*"] },
    });
    expect(config.template).toEqual([
      {
        source: LOAD_BALANCER_PATHS.template,
        destination: LOAD_BALANCER_PATHS.rendered,
        create_dest_dirs: true,
        command: ["/bin/sh", LOAD_BALANCER_PATHS.installer, LOAD_BALANCER_PATHS.rendered, LOAD_BALANCER_PATHS.liveSite],
        command_timeout: "30s",
      },
    ]);
  });

  it("gives nginx no token: none is in the container's environment, which consul-template would pass on", () => {
    // consul-template appends its Consul settings to every child's environment after the denylist (manager/runner.go
    // childEnv, config/env.go Env appends them unfiltered), the token among them when it came from CONSUL_TOKEN or
    // CONSUL_HTTP_TOKEN. Read from consul.token_file instead, only the file's path reaches nginx.
    const container = Object.values<any>(
      JSON.parse(sharedDefaultRun().files["stacks/cluster/cdk.tf.json"]).resource.docker_container,
    ).find((candidate) => candidate.name === "consul-lab-dev1002-load-balancer");
    expect(container.env ?? []).toEqual([]);
    expect(config.consul.token).toBeUndefined();
    // Whatever else the container's image may hold, the denylist keeps it from nginx.
    expect(config.exec.env.denylist).toEqual(["CONSUL_*"]);
  });

  it("renders any job: several templates, and no supervised process", () => {
    const job = {
      templates: [
        { source: "/t/a.ctmpl", destination: "/out/a", command: ["touch", "/out/a.done"] },
        { source: "/t/b.ctmpl", destination: "/out/b", command: [] },
      ],
    };
    const config = JSON.parse(renderConsulTemplateConfigJson(lab, job));
    expect(config.exec).toBeUndefined();
    expect(config.template.map((template: { source: string }) => template.source)).toEqual([
      "/t/a.ctmpl",
      "/t/b.ctmpl",
    ]);
    expect(config.consul.address).toBe("127.0.0.1:8500");
  });

  it("takes quiescence and staleness from the topology", () => {
    const input = articleInput();
    input.consulTemplate = { wait: { min: "5s", max: "30s" }, maxStale: "1m", logLevel: "debug" };
    expect(JSON.parse(renderConsulTemplateConfigJson(labOf(input), loadBalancerJob()))).toMatchObject({
      wait: { min: "5s", max: "30s" },
      max_stale: "1m",
      log_level: "debug",
    });
  });
});

describe("the Consul UI virtual host", () => {
  it("passes nginx -t and, in the article's open lab, proxies /ui and /v1 to the local agent", () => {
    const conf = renderConsulUiVhost(labOf({ ...articleInput(), security: "none" }));
    expect(nginxTest(conf).output).toContain("test is successful");
    expect(conf).toContain("server_name consul.hoge.dev.jp;");
    expect(conf.match(/proxy_pass http:\/\/127\.0\.0\.1:8500;/g)).toHaveLength(2);
  });

  it("in a secure lab, sends the browser to the HTTPS API under the UI's name and proxies nothing (real nginx)", async () => {
    const conf = renderConsulUiVhost(lab);
    expect(conf).not.toContain("proxy_pass");
    const port = await freeLoopbackPort();
    const nginx = await startNginx(conf.replace(/listen 80;/, `listen 127.0.0.1:${port};`), port);
    try {
      const answer = await new Promise<{ status?: number; location?: string }>((resolve, reject) =>
        get(
          { host: "127.0.0.1", port, path: "/v1/acl/tokens?x=1", headers: { Host: "consul.hoge.dev.jp" } },
          (response) => {
            response.resume();
            resolve({ status: response.statusCode, location: response.headers.location });
          },
        ).on("error", reject),
      );
      expect(answer).toEqual({ status: 308, location: "https://consul.hoge.dev.jp:8500/v1/acl/tokens?x=1" });
    } finally {
      await nginx.stop();
    }
  });
});

describe("the entry point", () => {
  const conf = renderEntryPointConf(lab);

  it("passes nginx -t and balances over both load balancers", () => {
    expect(nginxTest(conf).output).toContain("test is successful");
    expect(conf).toContain("server 10.0.1.2:80 max_fails=1 fail_timeout=5s; # dev1002");
    expect(conf).toContain("server 10.0.1.3:80 max_fails=1 fail_timeout=5s; # dev1003");
  });

  it("follows the load balancers' service port", () => {
    const input = articleInput();
    input.services[1].port = 8081;
    const custom = labOf(input);
    expect(renderEntryPointConf(custom)).toContain("server 10.0.1.2:8081 max_fails=1 fail_timeout=5s; # dev1002");
    expect(renderUpstreamTemplate(custom)).toContain("    listen 8081 default_server;");
    expect(renderConsulUiVhost(custom)).toContain("    listen 8081;");
  });

  it("keeps answering when either load balancer is down, and answers its own check", async () => {
    const livePort = await freeLoopbackPort();
    const deadPort = await freeLoopbackPort();
    const live = createServer((request, response) => response.end(`LB saw Host ${request.headers.host}\n`));
    await new Promise<void>((resolve) => live.listen(livePort, "127.0.0.1", resolve));
    const entryPort = await freeLoopbackPort();
    const local = conf
      .replace("10.0.1.2:80", `127.0.0.1:${deadPort}`)
      .replace("10.0.1.3:80", `127.0.0.1:${livePort}`)
      .replace("listen 80 default_server;", `listen 127.0.0.1:${entryPort} default_server;`);
    const nginx = await startNginx(local, entryPort);
    try {
      for (let request = 0; request < 4; request++) {
        expect(await httpGet(entryPort, "/", "test.hoge.dev.jp")).toEqual({
          status: 200,
          body: "LB saw Host test.hoge.dev.jp\n",
        });
      }
      live.close();
      expect(await httpGet(entryPort, "/_health")).toEqual({ status: 200, body: "ok\n" });
    } finally {
      await nginx.stop();
      live.close();
    }
  });
});

describe("failing over from a node whose host is lost", () => {
  // Every rendered nginx config that moves a request on to another upstream, as the stack uploads it.
  const failingOver = (): { where: string; text: string }[] => {
    const json = JSON.parse(sharedDefaultRun().files["stacks/cluster/cdk.tf.json"]);
    return Object.values<any>(json.resource.docker_container).flatMap((container) =>
      (container.upload ?? [])
        .filter((upload: any) => /proxy_next_upstream/.test(upload.content))
        .map((upload: any) => ({ where: `${container.name}:${upload.file}`, text: upload.content as string })),
    );
  };

  it("waits the same short time to connect at every hop, and both hops fit in one request's time", () => {
    const configs = failingOver();
    // The entry on dev1001, and the site template on each load balancer.
    expect(configs.map((config) => config.where).sort()).toEqual([
      "consul-lab-dev1001-entry:/etc/nginx/conf.d/default.conf",
      "consul-lab-dev1002-load-balancer:/etc/consul-template/templates/site.conf.ctmpl",
      "consul-lab-dev1003-load-balancer:/etc/consul-template/templates/site.conf.ctmpl",
    ]);
    for (const { where, text } of configs) {
      const locations = text.split(/location /).filter((block) => block.includes("proxy_next_upstream"));
      for (const block of locations)
        expect({ where, timeout: /proxy_connect_timeout (\S+);/.exec(block)?.[1] }).toEqual({
          where,
          timeout: `${PROXY_CONNECT_TIMEOUT_MS}ms`,
        });
    }
    // The entry waits once for a lost load balancer, the next one once for a lost app server: half a request's time
    // at most, the rest for the answer.
    expect(2 * PROXY_CONNECT_TIMEOUT_MS).toBeLessThanOrEqual(SITE_REQUEST_TIMEOUT_MS / 2);
  });
});
