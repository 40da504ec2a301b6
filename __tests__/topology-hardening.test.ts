/** Values that look valid but would inject configuration or break a deploy are refused, each with its path and fix. */
import { Testing } from "cdktf";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsulCatalog } from "../constructs";
import { articleInput, labOf, problemsOf } from "./helpers";
import { runApp } from "./synth";

const dir = mkdtempSync(join(tmpdir(), "consul-lab-hardening-"));

describe("a check path", () => {
  it.each([
    ["an nginx block", "/_health { return 200; } location /x/ { alias /etc/; } location = /y"],
    ["a space", "/a b"],
    ["a newline", "/a\nb"],
    ["a query", "/health?full=1"],
    ["an nginx variable", "/$host"],
  ])("is refused when it holds %s", (_, path) => {
    const input = articleInput();
    input.services[0].check = { path };
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(/^services\[0\]\.check\.path: check path must be an HTTP path/),
    );
  });

  it.each(["/", "/_health", "/status/ready", "/caf%C3%A9", "/a.b~c-d_e"])("is accepted as %s", (path) => {
    const input = articleInput();
    input.services[0].check = { path };
    expect(problemsOf(input)).toEqual([]);
  });
});

describe("the published ports", () => {
  it.each(["httpPort", "dnsPort"])("refuse an entry port equal to publish.%s", (field) => {
    const input = articleInput();
    input.publish = { httpPort: 9000, dnsPort: 9001, entryPort: field === "httpPort" ? 9000 : 9001 };
    expect(problemsOf(input)).toContain(
      `publish.entryPort: must differ from publish.${field} (${field === "httpPort" ? 9000 : 9001}); each is its own host port`,
    );
  });
});

describe("the site's roles", () => {
  it("need three different services", () => {
    const input = articleInput();
    input.site = { loadBalancerService: "test_hoge_dev_jp" };
    expect(problemsOf(input)).toContain(
      'site.loadBalancerService: "test_hoge_dev_jp" is also site.service; the site\'s roles need three different services',
    );
  });

  it("stop the app with the problem and no stack trace, before any renderer runs", () => {
    const input = articleInput();
    input.site = { loadBalancerService: "test_hoge_dev_jp" };
    const file = join(dir, "same-role.json");
    writeFileSync(file, JSON.stringify(input));
    const run = runApp({ CONSUL_LAB_TOPOLOGY: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("site.loadBalancerService");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(Object.keys(run.files)).toEqual([]);
  });

  it("give every load balancer one port", () => {
    const input = articleInput();
    input.services[1].nodes = ["dev1002"];
    input.services.push({
      name: "nginx",
      id: "lb2",
      tags: ["lb"],
      port: 8081,
      nodes: ["dev1003"],
      check: { path: "/_health" },
    });
    expect(problemsOf(input)).toContain(
      'site.loadBalancerService: the instances of "nginx" listen on different ports (80, 8081); give them one port',
    );
  });
});

describe("a KV value", () => {
  it("is refused above Consul's 512 KiB limit", () => {
    const input = articleInput();
    input.kv = { "web/big": "x".repeat(512 * 1024 + 1) };
    expect(problemsOf(input)).toContain(
      'kv["web/big"]: a KV value may hold at most 524288 bytes (Consul\'s default kv_max_value_size, 512 KiB)',
    );
  });

  it("reaches Consul exactly as written, even when it looks like a Terraform template", () => {
    const input = articleInput();
    const values = [
      '${file("/etc/hostname")}',
      "%{ for x in [1] }${x}%{ endfor }",
      "${var.role_tokens}",
      "plain $ and % and {}",
    ];
    input.kv = Object.fromEntries(values.map((value, index) => [`web/v${index}`, value]));
    const synthesized = JSON.parse(
      Testing.synthScope((scope) => new ConsulCatalog(scope, "catalog", { lab: labOf(input) })),
    );
    const keys = (Object.values(synthesized.resource.consul_keys)[0] as any).key as { path: string; value: string }[];
    // The real Terraform evaluates the synthesized strings; each must come back as the topology wrote it.
    const work = mkdtempSync(join(tmpdir(), "consul-lab-kv-"));
    writeFileSync(
      join(work, "main.tf.json"),
      JSON.stringify({ locals: Object.fromEntries(keys.map((key, i) => [`v${i}`, key.value])) }),
    );
    const expression = `join(",", [${keys.map((_, i) => `base64encode(local.v${i})`).join(", ")}])`;
    const result = spawnSync("terraform", ["console"], { cwd: work, input: `${expression}\n`, encoding: "utf8" });
    expect(result.status).toBe(0);
    const evaluated = /^"([A-Za-z0-9+/=,]*)"$/m
      .exec(result.stdout)![1]
      .split(",")
      .map((b64) => Buffer.from(b64, "base64").toString());
    expect(evaluated).toEqual(keys.map((key) => input.kv![key.path]));
    expect(evaluated).toEqual(values);
  });
});
