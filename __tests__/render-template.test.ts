import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderTemplate } from "./tools/render-template";

const instances = {
  web: [
    { Node: "dev1005", Address: "10.0.1.5", Port: 80, ID: "web", Tags: ["web"], Status: "passing" as const },
    { Node: "dev1004", Address: "10.0.1.4", Port: 80, ID: "web", Tags: ["web"], Status: "critical" as const },
    { Node: "dev1006", Address: "10.0.1.6", Port: 80, ID: "sorry", Tags: ["sorry"], Status: "passing" as const },
  ],
};

describe("tools/render-template", () => {
  it("prints its usage, with the fixture format, when called without arguments", () => {
    const result = spawnSync(join(__dirname, "tools", "render-template", "render-template"), [], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("usage: render-template TEMPLATE FIXTURE.json");
    expect(result.stderr).toContain('"services"');
  });

  it("filters service instances by tag and health, sorted by node", () => {
    const template =
      '{{ range service "web|any" }}{{ .Node }}={{ .Status }} {{ end }}/{{ range service "web" }}{{ .Address }}:{{ .Port }}{{ end }}';
    expect(renderTemplate(template, { services: instances, kv: {} }).stdout).toBe(
      "dev1004=critical dev1005=passing dev1006=passing /10.0.1.5:8010.0.1.6:80",
    );
    const tagged = '{{ range service "sorry.web@dc1|passing" }}{{ .ID }} {{ .Name }} {{ .NodeAddress }}{{ end }}';
    expect(renderTemplate(tagged, { services: instances, kv: {} }).stdout).toBe("sorry web 10.0.1.6");
  });

  it("accepts the article's two-argument form", () => {
    const result = renderTemplate('{{ range service "web.web@dc1" "passing" }}{{ .Node }}{{ end }}', {
      services: instances,
      kv: {},
    });
    expect(result.stdout).toBe("dev1005");
  });

  it("returns nothing for another datacenter", () => {
    expect(renderTemplate('{{ len (service "web@dc2") }}', { services: instances, kv: {} }).stdout).toBe("0");
  });

  it("reads keys, defaults and prefixes", () => {
    const kv = { "web/site/maintenance/key": "on", "web/site/maintenance/reason": "deploy", "web/site/other/x": "1" };
    const template =
      '{{ key "web/site/maintenance/key" }} {{ keyOrDefault "missing" "dflt" }} {{ keyExists "web/site/other/x" }} ' +
      '{{ range ls "web/site/maintenance" }}{{ .Key }}={{ .Value }};{{ end }} {{ len (tree "web/site") }}';
    expect(renderTemplate(template, { services: {}, kv }).stdout).toBe("on dflt true key=on;reason=deploy; 3");
  });

  it("fails on a missing key, as consul-template would block on it", () => {
    const result = renderTemplate('{{ key "nope" }}', { services: {}, kv: {} });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('key "nope" is missing');
  });

  it("rejects an unknown health filter and an unknown fixture field", () => {
    expect(renderTemplate('{{ service "web|healthy" }}', { services: {}, kv: {} }).stderr).toContain(
      'unknown health filter "healthy"',
    );
    expect(renderTemplate("x", '{"servcies": {}}').stderr).toContain("the fixture is not valid");
  });

  it("never runs a program planted in a cache folder that others may write", () => {
    const tmp = mkdtempSync(join(tmpdir(), "consul-lab-planted-"));
    // The cache folder, writable by anyone (as a folder in a shared /tmp is), holding a "binary" that leaves a mark.
    const shared = join(tmp, "consul-lab");
    mkdirSync(shared, { mode: 0o777 });
    const mark = join(tmp, "planted-ran");
    const source = readFileSync(join(__dirname, "tools", "render-template", "main.go"));
    const digest = createHash("sha256").update(source).digest("hex").slice(0, 16);
    writeFileSync(join(shared, `render-template-${digest}`), `#!/bin/sh\ntouch ${mark}\n`, { mode: 0o755 });
    chmodSync(shared, 0o777);
    const result = spawnSync(join(__dirname, "tools", "render-template", "render-template"), [], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, XDG_CACHE_HOME: tmp, TMPDIR: tmp, GOCACHE: join(tmp, "go-build") },
    });
    expect(existsSync(mark)).toBe(false);
    // The real program ran instead: its usage.
    expect(result.stderr).toContain("usage: render-template TEMPLATE FIXTURE.json");
  });
});
