import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderWorkloadSite, WORKLOAD_HTML_ROOT } from "../renderers";
import { articleInput, labOf } from "./tools/helpers";
import { nginxTest, startNginx } from "./tools/nginx";
import { freeLoopbackPort } from "./tools/ports";

describe("the node workload's site", () => {
  const lab = labOf();

  it.each(lab.nodes.map((node) => node.name))("passes nginx -t on %s", (name) => {
    const site = renderWorkloadSite(lab, name)!;
    const result = nginxTest(site.nginxConf);
    expect(result.output).toContain("syntax is ok");
    expect(result.ok).toBe(true);
  });

  it("gives each node the workload its services imply", () => {
    expect(lab.nodes.map((node) => [node.name, renderWorkloadSite(lab, node.name)?.kind])).toEqual([
      ["dev1001", "entry"],
      ["dev1002", "load-balancer"],
      ["dev1003", "load-balancer"],
      ["dev1004", "app"],
      ["dev1005", "app"],
      ["dev1006", "sorry"],
    ]);
  });

  it("runs no workload on a node without services", () => {
    const input = articleInput();
    input.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    expect(renderWorkloadSite(labOf(input), "dev1007")).toBeUndefined();
  });

  it("listens on every port of the node's services, once each", () => {
    const input = articleInput();
    input.services.push(
      { name: "metrics", port: 9100, nodes: ["dev1004"] },
      { name: "admin", port: 80, nodes: ["dev1004"] },
    );
    const conf = renderWorkloadSite(labOf(input), "dev1004")!.nginxConf;
    expect(conf.match(/listen \d+;/g)).toEqual(["listen 80;", "listen 9100;"]);
  });

  it("escapes the page's text", () => {
    const input = articleInput();
    input.services[0].name = "a-b";
    input.site = { entryService: "a-b" };
    expect(renderWorkloadSite(labOf(input), "dev1001")!.indexHtml).toContain("<title>a-b on dev1001</title>");
  });

  it("serves a page that names the app server, through a real nginx", async () => {
    const site = renderWorkloadSite(lab, "dev1004")!;
    const port = await freeLoopbackPort();
    const root = mkdtempSync(join(tmpdir(), "consul-lab-html-"));
    chmodSync(root, 0o755); // nginx workers run unprivileged
    writeFileSync(join(root, "index.html"), site.indexHtml);
    // Only the listen address and document root move, to the test's loopback port and temp dir.
    const conf = site.nginxConf.replace("listen 80;", `listen 127.0.0.1:${port};`).replace(WORKLOAD_HTML_ROOT, root);
    const nginx = await startNginx(conf, port);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/any/path`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("Served by app server dev1004 (10.0.1.4).");
    } finally {
      await nginx.stop();
    }
  });
});
