import { createServer, Server } from "node:http";
import { renderConsulUiVhost, renderSiteInstances, renderUpstreamTemplate } from "../renderers";
import { articleInput, articleWithExtraApps, labOf } from "./tools/helpers";
import { nginxTest, startNginx } from "./tools/nginx";
import { freeLoopbackPort } from "./tools/ports";
import { Fixture, HealthInstance, renderTemplate } from "./tools/render-template";

const lab = labOf();
const template = renderUpstreamTemplate(lab);
const KEY = "web/test.hoge.dev.jp/maintenance/key";
const OPERATOR_KEY = "web/test.hoge.dev.jp/maintenance/operator";
const SERVICE = "test_hoge_dev_jp";

function app(
  node: string,
  status: HealthInstance["Status"],
  address = `10.0.1.${node.slice(-1)}`,
  port = 80,
): HealthInstance {
  return { Node: node, Address: address, Port: port, ID: "web", Tags: ["web"], Status: status };
}
function sorry(status: HealthInstance["Status"], address = "10.0.1.6", port = 80): HealthInstance {
  return { Node: "dev1006", Address: address, Port: port, ID: "sorry", Tags: ["sorry"], Status: status };
}

/** The catalog and KV as consul-template would read them on a deployed lab: the consul stack wrote the instance list. */
function fixture(instances: HealthInstance[], flag?: string, forLab = lab): Fixture {
  return {
    services: { [SERVICE]: instances },
    kv: { [forLab.siteInstancesKey]: renderSiteInstances(forLab), ...(flag === undefined ? {} : { [KEY]: flag }) },
  };
}

/** The `server` lines of the rendered upstream, as "address:port mode". */
function upstreamServers(config: string): string[] {
  return [...config.matchAll(/^\s*server (\S+) (weight=5|backup);/gm)].map((match) => `${match[1]} ${match[2]}`);
}

function render(instances: HealthInstance[], flag?: string): string {
  const result = renderTemplate(template, fixture(instances, flag));
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

/** What the site must route to, from the article's intent, independently of how the template says it. */
function expectedServers(passingApps: number, sorryPassing: boolean, flag: string | undefined): string[] {
  const apps = Array.from({ length: passingApps }, (_, index) => `10.0.1.${4 + index}:80 weight=5`);
  if (flag === "on" && sorryPassing) return ["10.0.1.6:80 weight=5"];
  if (passingApps > 0) return [...apps, ...(sorryPassing ? ["10.0.1.6:80 backup"] : [])];
  return sorryPassing ? ["10.0.1.6:80 weight=5"] : [];
}

describe("the site's upstream template", () => {
  const scenarios: [number, boolean, "off" | "on" | "missing"][] = [];
  for (const passingApps of [0, 1, 2])
    for (const sorryPassing of [true, false])
      for (const flagState of ["off", "on", "missing"] as const) scenarios.push([passingApps, sorryPassing, flagState]);

  it.each(scenarios)(
    "renders a config nginx accepts with %i passing APs, sorry passing: %s, flag: %s",
    (passingApps, sorryPassing, flagState) => {
      const flag = flagState === "missing" ? undefined : flagState;
      const instances = [
        app("dev1004", passingApps >= 1 ? "passing" : "critical"),
        app("dev1005", passingApps >= 2 ? "passing" : "critical"),
        sorry(sorryPassing ? "passing" : "critical"),
      ];
      const config = render(instances, flag);
      const check = nginxTest(`${config}\n${renderConsulUiVhost(lab)}`);
      expect(check.output).toContain("test is successful");
      expect(upstreamServers(config)).toEqual(expectedServers(passingApps, sorryPassing, flag));
      const proxied = config.includes("proxy_pass http://test_hoge_dev_jp;");
      expect(proxied).toBe(expectedServers(passingApps, sorryPassing, flag).length > 0);
      if (!proxied) expect(config).toContain('return 503 "<!doctype html><title>test.hoge.dev.jp is under maintenance');
    },
  );

  it("takes the operator's switch from the model, beside the flag", () => {
    expect(lab.operatorMaintenanceKey).toBe(OPERATOR_KEY);
  });

  it.each([
    [2, "off"],
    [2, undefined],
    [0, "off"],
  ] as const)(
    "routes to the sorry server alone while the operator's switch is on (%i passing APs, flag %s)",
    (passingApps, flag) => {
      const instances = [
        app("dev1004", passingApps >= 1 ? "passing" : "critical"),
        app("dev1005", passingApps >= 2 ? "passing" : "critical"),
        sorry("passing"),
      ];
      const result = renderTemplate(template, {
        ...fixture(instances, flag),
        kv: { ...fixture(instances, flag).kv, [OPERATOR_KEY]: "on" },
      });
      expect(result.status).toBe(0);
      expect(upstreamServers(result.stdout)).toEqual(["10.0.1.6:80 weight=5"]);
      expect(result.stdout).toContain("# maintenance: on,");
    },
  );

  // Every agent token may register the site's service: what a compromised or mistaken one could put in the catalog.
  const HOSTILE: [string, HealthInstance][] = [
    [
      "an Address that closes the upstream and opens a server",
      app(
        "dev1004",
        "passing",
        "10.0.1.9:80; } server { listen 81; location / { alias /etc/; autoindex on; } } upstream x { server 10.0.1.9",
      ),
    ],
    ["the sorry server's token adding a web instance", { ...sorry("passing"), ID: "web-2", Tags: ["web"] }],
    ["a node name with nginx syntax", { ...app("dev1004", "passing"), Node: "dev1004; autoindex on" }],
    ["a known node on another port", app("dev1004", "passing", "10.0.1.4", 8080)],
    ["a node the topology does not have", app("dev1999", "passing", "10.0.1.99")],
    ["a known node's name at another address", app("dev1005", "passing", "192.0.2.1")],
  ];

  it.each(HOSTILE)("lets %s change nothing in the config", (_name, hostile) => {
    for (const legit of [
      [app("dev1004", "passing"), app("dev1005", "critical"), sorry("passing")],
      [app("dev1004", "critical"), app("dev1005", "critical"), sorry("passing")],
    ]) {
      const config = render([...legit, hostile], "off");
      expect(config).toBe(render(legit, "off"));
      expect(config).not.toMatch(/autoindex|alias|192\.0\.2|10\.0\.1\.9|8080|dev1999/);
      expect(nginxTest(`${config}\n${renderConsulUiVhost(lab)}`).output).toContain("test is successful");
    }
  });

  it("serves nothing from the catalog before the consul stack has written the instance list", () => {
    const result = renderTemplate(template, {
      services: { [SERVICE]: [app("dev1004", "passing"), sorry("passing")] },
      kv: {},
    });
    expect(upstreamServers(result.stdout)).toEqual([]);
    expect(result.stdout).toContain("return 503");
    expect(nginxTest(result.stdout).ok).toBe(true);
  });

  it("lists exactly the topology's app and sorry instances", () => {
    expect(JSON.parse(renderSiteInstances(lab))).toEqual({
      "app|dev1004|10.0.1.4|80": true,
      "app|dev1005|10.0.1.5|80": true,
      "sorry|dev1006|10.0.1.6|80": true,
    });
    expect(lab.siteInstancesKey).toBe("web/test.hoge.dev.jp/maintenance/instances");
  });

  it("never echoes a flag's raw value into nginx's config", () => {
    const hostile = "on; } server { listen 81; root /etc/; autoindex on; } upstream x { server 10.0.1.9";
    const config = render([app("dev1004", "passing"), sorry("passing")], hostile);
    expect(config).not.toContain("autoindex");
    expect(config).toContain("# maintenance: off,");
  });

  it("never treats the sorry server as an app server, whatever the flag", () => {
    const config = render([sorry("passing")], "off");
    expect(upstreamServers(config)).toEqual(["10.0.1.6:80 weight=5"]);
  });

  it("treats a warning AP as not passing", () => {
    expect(upstreamServers(render([app("dev1004", "warning"), sorry("passing")], "off"))).toEqual([
      "10.0.1.6:80 weight=5",
    ]);
  });

  it("adds every passing AP of the topology, however many join", () => {
    const biggerLab = labOf(articleWithExtraApps(12));
    const many = Array.from({ length: 12 }, (_, index) => app(`dev${1007 + index}`, "passing", `10.0.1.${7 + index}`));
    const result = renderTemplate(
      renderUpstreamTemplate(biggerLab),
      fixture([...many, sorry("passing")], "off", biggerLab),
    );
    expect(upstreamServers(result.stdout)).toHaveLength(13);
    expect(nginxTest(result.stdout).ok).toBe(true);
  });

  it("keeps the article's proxy headers and server name", () => {
    const config = render([app("dev1004", "passing"), sorry("passing")], "off");
    for (const header of [
      "Host $host",
      "X-Real-IP $remote_addr",
      "X-Forwarded-Proto $scheme",
      "X-Forwarded-Host $http_host",
      "X-Forwarded-Server $host",
      "X-Forwarded-For $proxy_add_x_forwarded_for",
    ]) {
      expect(config).toContain(`proxy_set_header ${header};`);
    }
    expect(config).toContain("server_name test.hoge.dev.jp;");
  });

  it("takes the service, tags, key and datacenter from the topology", () => {
    const input = articleInput();
    input.datacenter = "tokyo";
    input.site = { service: "shop", appTag: "ap", sorryTag: "fallback", maintenanceKey: "shop/maintenance" };
    input.services[2] = { ...input.services[2], name: "shop", tags: ["ap"] };
    input.services[3] = { ...input.services[3], name: "shop", tags: ["fallback"] };
    const custom = renderUpstreamTemplate(labOf(input));
    expect(custom).toContain('keyOrDefault "shop/maintenance" "off"');
    expect(custom).toContain('service "ap.shop@tokyo|passing"');
    expect(custom).toContain('service "fallback.shop@tokyo|passing"');
  });

  describe("routing real traffic through nginx", () => {
    const backends: Server[] = [];
    async function backend(name: string): Promise<number> {
      const port = await freeLoopbackPort();
      const server = createServer((_, response) => response.end(`served by ${name}\n`));
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
      backends.push(server);
      return port;
    }
    afterAll(() => backends.forEach((server) => server.close()));

    /**
     * The entry's answer with the rendered config, its servers (the topology's addresses) pointed at loopback
     * backends: `backendOf` maps `10.0.1.4:80` to a loopback port.
     */
    async function get(
      instances: HealthInstance[],
      flag: string | undefined,
      backendOf: Record<string, number>,
    ): Promise<{ status: number; body: string }> {
      const port = await freeLoopbackPort();
      let config = render(instances, flag).replace(
        "listen 80 default_server;",
        `listen 127.0.0.1:${port} default_server;`,
      );
      for (const [server, backendPort] of Object.entries(backendOf))
        config = config.replaceAll(`server ${server} `, `server 127.0.0.1:${backendPort} `);
      const nginx = await startNginx(config, port);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        return { status: response.status, body: await response.text() };
      } finally {
        await nginx.stop();
      }
    }

    it("sends traffic to a passing AP, to the sorry server in maintenance, and answers 503 when nothing passes", async () => {
      const backends = { "10.0.1.4:80": await backend("dev1004"), "10.0.1.6:80": await backend("dev1006") };
      const ap = app("dev1004", "passing");
      const sorryServer = sorry("passing");
      expect(await get([ap, sorryServer], "off", backends)).toEqual({ status: 200, body: "served by dev1004\n" });
      expect(await get([{ ...ap, Status: "critical" }, sorryServer], "on", backends)).toEqual({
        status: 200,
        body: "served by dev1006\n",
      });
      const none = await get(
        [
          { ...ap, Status: "critical" },
          { ...sorryServer, Status: "critical" },
        ],
        "on",
        backends,
      );
      expect(none.status).toBe(503);
      expect(none.body).toContain("test.hoge.dev.jp is under maintenance");
    });

    it("falls back to the backup sorry server when the AP stops answering before its check notices", async () => {
      const sorryPort = await backend("dev1006");
      const deadPort = await freeLoopbackPort();
      const result = await get([app("dev1004", "passing"), sorry("passing")], "off", {
        "10.0.1.4:80": deadPort,
        "10.0.1.6:80": sorryPort,
      });
      expect(result).toEqual({ status: 200, body: "served by dev1006\n" });
    });
  });
});
