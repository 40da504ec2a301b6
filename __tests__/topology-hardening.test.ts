/** Values that look valid but would inject configuration or break a deploy are refused, each with its path and fix. */
import { Testing } from "cdktf";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterStack, ConsulStack } from "../stacks";
import { ARTICLE_TOPOLOGY, Lab, parseTopology, readTopologyFile } from "../topology";
import { renderAgentConfig, renderUpstreamTemplate } from "../renderers";
import { articleInput, labOf, problemsOf, TEST_AGENT_SECRETS } from "./tools/helpers";
import { runApp } from "./tools/synth";

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

  it.each(["/_health", "/status/ready", "/caf%C3%A9", "/a.b~c-d_e", "/a%2Fb"])("is accepted as %s", (path) => {
    const input = articleInput();
    // On an app server: its page answers the request nginx decoded.
    input.services[2].check = { path };
    expect(problemsOf(input)).toEqual([]);
  });

  it("is refused with an escape on the load balancers, whose exact-match location nginx compares decoded", () => {
    const input = articleInput();
    input.services[1].check = { path: "/caf%C3%A9" };
    expect(problemsOf(input)).toEqual([
      expect.stringMatching(
        /^services\[1\]\.check\.path: "\/caf%C3%A9" has a %XX escape; "nginx" answers its check itself/,
      ),
    ]);
  });

  it("is accepted as / on an app server, whose page is what the check should see", () => {
    const input = articleInput();
    input.services[2].check = { path: "/" };
    expect(problemsOf(input)).toEqual([]);
  });

  it.each([
    ["/../etc/passwd", "has a '.' or '..' segment"],
    ["/a/./b", "has a '.' or '..' segment"],
    ["/a/..", "has a '.' or '..' segment"],
    ["//_health", "has an empty segment ('//')"],
    ["/a//b", "has an empty segment ('//')"],
    ["/%5Fhealth", "escapes '_' (%5F), which needs no escape"],
    ["/%41", "escapes 'A' (%41), which needs no escape"],
    ["/%2e%2e/x", "escapes '.' (%2e), which needs no escape"],
    ["/a%00", "escapes NUL (%00)"],
  ])("is refused when not in the one form Consul sends and nginx matches: %s", (path, why) => {
    const input = articleInput();
    input.services[2].check = { path };
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(`services[2].check.path: "${path}" ${why}`)).toBe(true);
  });

  it.each([
    ["/", "the load balancers", 1],
    ["/", "the entry", 0],
    ["/index.html", "the load balancers", 1],
    ["/index.html", "the entry", 0],
  ])("is refused as %s on %s, whose nginx would answer a page of the site with ok", (path, _, index) => {
    const input = articleInput();
    input.services[index].check = { path };
    expect(problemsOf(input)).toEqual([
      expect.stringMatching(
        new RegExp(`^services\\[${index}\\]\\.check\\.path: "${path.replace(".", "\\.")}" is a page of the site`),
      ),
    ]);
  });

  it("defaults to /_health on the load balancers and the entry, and to / on pages", () => {
    const input = articleInput();
    for (const service of input.services) delete service.check;
    const lab = labOf(input);
    expect(lab.healthPathOf("nginx")).toBe("/_health");
    expect(lab.healthPathOf("keepalived")).toBe("/_health");
    expect(lab.healthPathOf("test_hoge_dev_jp")).toBe("/");
    const checks = renderAgentConfig(lab, "dev1002", TEST_AGENT_SECRETS).services[0].checks;
    expect(checks[0].http).toBe("http://127.0.0.1:80/_health");
    // The load balancers answer that path themselves, so the site's root stays the site's.
    const upstream = renderUpstreamTemplate(lab);
    expect(upstream).toContain("location = /_health");
    expect(upstream).not.toMatch(/location = \/ /);
  });
});

describe("a check's durations", () => {
  it("refuse a timeout below 1ms, which always fails", () => {
    const input = articleInput();
    input.services[2].check = { timeout: "999us" };
    expect(problemsOf(input)).toEqual([
      'services[2].check.timeout: "999us" is shorter than 1ms, which no check can answer in; use at least "1ms"',
    ]);
  });

  it("refuse an interval above 24h, which delays the first check by up to that long", () => {
    const input = articleInput();
    input.services[2].check = { interval: "2562047h", timeout: "2s" };
    expect(problemsOf(input)).toEqual([
      expect.stringMatching(/^services\[2\]\.check\.interval: "2562047h" is longer than 24h;/),
    ]);
  });

  it.each([
    ["1ms", "1s"],
    ["2s", "24h"],
  ])("accept timeout %s with interval %s", (timeout, interval) => {
    const input = articleInput();
    input.services[2].check = { timeout, interval };
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
});

describe("every string field of the topology, given a hostile value", () => {
  const HOSTILE = 'x${file("/etc/hostname")}%{ if true }y%{ endif }; } location /x/ { alias /etc/; } $host \'"\n\\';
  const effective = parseTopology(ARTICLE_TOPOLOGY);

  /** Every string in the effective topology, with the path validation names it by. */
  function stringFields(value: unknown, path: (string | number)[] = []): (string | number)[][] {
    if (typeof value === "string") return [path];
    if (Array.isArray(value)) return value.flatMap((item, index) => stringFields(item, [...path, index]));
    if (value && typeof value === "object")
      return Object.entries(value).flatMap(([key, item]) => stringFields(item, [...path, key]));
    return [];
  }
  const format = (path: (string | number)[]) =>
    path.reduce<string>((text, key) => {
      if (typeof key === "number") return `${text}[${key}]`;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${text}[${JSON.stringify(key)}]`;
      return text ? `${text}.${key}` : key;
    }, "");
  const fields = stringFields(effective);

  it("covers every string the schema holds", () => {
    expect(fields.length).toBeGreaterThan(40);
    expect(fields.map(format)).toEqual(
      expect.arrayContaining([
        "name",
        "site.hostname",
        "nodes[3].name",
        "services[1].tags[0]",
        'kv["web/test.hoge.dev.jp/description"]',
      ]),
    );
  });

  it.each(fields.map((path) => [format(path), path] as const))(
    "%s is refused with its path, or reaches the output literally",
    (name, path) => {
      const input: any = structuredClone(effective);
      let parent = input;
      for (const key of path.slice(0, -1)) parent = parent[key];
      parent[path[path.length - 1]] = HOSTILE;
      const problems = problemsOf(input);
      if (problems.length > 0) {
        expect(problems.some((problem) => problem.startsWith(`${name}:`))).toBe(true);
        return;
      }
      // Accepted: wherever it lands, Terraform must read it as text, never as an interpolation or directive.
      const lab = new Lab(parseTopology(input));
      const app = Testing.app();
      const cluster = new ClusterStack(app, "cluster", { lab });
      const synthesized = Testing.synth(cluster) + Testing.synth(new ConsulStack(app, "consul", { lab, cluster }));
      // A KV value is data in the consul stack's kv.json (terraform-strings.test.ts reads it back), in no JSON string.
      if (path[0] === "kv") return expect(synthesized).not.toContain('file(\\"/etc/hostname');
      expect(synthesized).toContain("$${file(");
      expect(synthesized.replace(/\$\$\{file\(/g, "")).not.toContain("${file(");
      expect(synthesized.replace(/%%\{ if true \}/g, "")).not.toContain("%{ if true }");
    },
  );

  it("a hostile KV key is refused", () => {
    const input = articleInput();
    input.kv = { [HOSTILE]: "v" };
    expect(problemsOf(input)).toContain(
      `kv[${JSON.stringify(HOSTILE)}]: KV keys are paths such as web/site/description (no leading '/')`,
    );
  });
});

describe("names and ports Docker or the node would refuse", () => {
  it.each(["consul..lab", "lab.", "-lab", "Lab", "lab--x-", "a".repeat(41)])("refuses the lab name %s", (name) => {
    const input = articleInput();
    input.name = name;
    expect(problemsOf(input)).toContainEqual(expect.stringMatching(/^name: lab name must be 1-40 lowercase letters/));
  });

  it.each(["consul-lab", "shop.lab", "lab_1", "lab__x", "a--b"])("accepts the lab name %s", (name) => {
    const input = articleInput();
    input.name = name;
    expect(problemsOf(input)).toEqual([]);
  });

  it("refuses a service on the port of the node's dnsmasq", () => {
    const input = articleInput();
    input.services.push({ name: "dns_like", port: 53, nodes: ["dev1004"] });
    expect(problemsOf(input)).toContain(
      `services[4].port: 53 collides in the pod of dev1004 with the node's DNS forwarder (dnsmasq) (tcp, udp on 127.0.0.1): the node's nginx for "dns_like" (tcp on 0.0.0.0) would bind the same port, and two processes of a pod cannot; choose another`,
    );
  });

  it("refuses a service on a load balancer's node, where nothing would listen on its port", () => {
    const input = articleInput();
    input.services.push({ name: "metrics", port: 9100, nodes: ["dev1002"], check: { type: "tcp" } });
    expect(problemsOf(input)).toContain(
      'services[4].nodes: "metrics" on node "dev1002" would have nothing listening on port 9100: the node runs the load balancer only; put the service on another node',
    );
  });

  it.each(["test.hoge.dev.jp; }", "bad host", "-x.example", "a..b"])("refuses the site hostname %j", (hostname) => {
    const input = articleInput();
    input.site = { hostname };
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(/^site\.hostname: site hostname must be a DNS name/),
    );
  });

  it("says a negative cacheSize is out of range, not that it is not whole", () => {
    const input = articleInput();
    input.dnsForwarder = { cacheSize: -1 };
    expect(problemsOf(input)).toEqual(["dnsForwarder.cacheSize: cacheSize must be 0-10000"]);
  });
});

describe("topology objects are plain data", () => {
  it("keeps a __proto__ KV key as an entry", () => {
    const input = articleInput();
    // As JSON.parse reads a file: an own property named __proto__, not the object's prototype.
    input.kv = JSON.parse('{"__proto__": "kept", "web/a": "b"}');
    const kv = parseTopology(input).kv;
    expect(Object.hasOwn(kv, "__proto__")).toBe(true);
    expect(Object.entries(kv)).toEqual([
      ["__proto__", "kept"],
      ["web/a", "b"],
    ]);
  });

  it.each(["__proto__", "constructor", "toString"])("reports the unknown field %s without a made-up hint", (key) => {
    const input = JSON.parse(JSON.stringify(articleInput()).replace(/^\{/, `{"${key}": 1,`));
    expect(problemsOf(input)).toContain(`${key}: unknown field "${key}"; remove it or check its spelling`);
  });
});

describe("a topology file", () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("may start with a byte-order mark", () => {
    const file = write("bom.json", `\uFEFF${JSON.stringify(articleInput())}`);
    expect(() => readTopologyFile(file)).not.toThrow();
  });

  it.each([
    ["dup.json", '{"name": "a", "name": "b", "nodes": []}', 'line 1, column 15: duplicate key "name"'],
    ["dup.yaml", "name: a\nname: b\nnodes: []\n", 'line 2, column 1: duplicate key "name"'],
  ])("names a duplicated key in %s", (name, text, expected) => {
    expect(() => readTopologyFile(write(name, text))).toThrow(expected);
  });

  it("reports a YAML warning in its report, not as a Node warning", () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on("warning", listener);
    try {
      expect(() => readTopologyFile(write("tag.yaml", "name: !weird x\nnodes: []\n"))).toThrow(
        "line 1, column 7: cannot parse the file: Unresolved tag: !weird",
      );
    } finally {
      process.off("warning", listener);
    }
    expect(warnings).toEqual([]);
  });
});

describe("an image reference", () => {
  const problemsWith = (reference: string) => {
    const input = articleInput();
    input.images = { nginx: reference };
    return problemsOf(input);
  };

  it.each([
    "nginx:1.27-alpine",
    "localhost:5000/team/nginx:1.27",
    `registry.example.com:5000/team/nginx@sha256:${"a".repeat(64)}`,
    `nginx:1.27-alpine@sha256:${"b".repeat(64)}`,
    "a__b:1",
    "a--b:1",
    "[::1]:5000/nginx:1",
    `nginx@sha512:${"c".repeat(128)}`,
  ])("is accepted in Docker's grammar: %s", (reference) => {
    expect(problemsWith(reference)).toEqual([]);
  });

  it.each([
    ["nginx::1.27", "an empty tag"],
    ["a/../b:1", "a '..' path component"],
    [`nginx:${"x".repeat(129)}`, "a tag over 128 characters"],
    ["Nginx:1", "an uppercase path"],
    ["a___b:1", "three underscores"],
    ["a/:1", "an empty path component"],
  ])("is refused before any build: %s (%s)", (reference) => {
    expect(problemsWith(reference)).toContainEqual(
      expect.stringMatching(/^images\.nginx: must be an image reference in Docker's grammar/),
    );
  });

  it("refuses a name over 255 characters, a registry port included", () => {
    expect(problemsWith(`r:5000/${"a".repeat(300)}:1`)).toEqual([
      "images.nginx: the image name (its host and path, before the tag or digest) may have at most 255 characters",
    ]);
  });

  it("must pin a tag or a digest", () => {
    expect(problemsWith("nginx")).toEqual(['images.nginx: must pin a tag or a digest, such as "nginx:1.27-alpine"']);
  });
});

describe("values the programs refuse or cannot use", () => {
  it.each([
    [{ recursors: ["224.0.0.251"] }, "consul.recursors[0]: 224.0.0.251 is a multicast, reserved or broadcast address"],
    [
      { recursors: ["255.255.255.255"] },
      "consul.recursors[0]: 255.255.255.255 is a multicast, reserved or broadcast address",
    ],
    [{ dns: { nodeTtl: "600000h" } }, 'consul.dns.nodeTtl: "600000h" is 2160000000 s, more than a DNS TTL can say'],
    [
      { dns: { serviceTtl: "2562047h" } },
      'consul.dns.serviceTtl: "2562047h" is 9223369200 s, more than a DNS TTL can say',
    ],
  ])("refuses consul %j", (consul, problem) => {
    const input = articleInput();
    input.consul = consul;
    expect(problemsOf(input)).toContainEqual(expect.stringContaining(problem));
  });

  it("refuses a servers' certificate name longer than a certificate can carry, before openssl would", () => {
    const input = articleInput();
    input.datacenter = "a".repeat(60);
    expect(problemsOf(input)).toContainEqual(
      expect.stringMatching(/^datacenter: the servers' certificate name server\.a{60}\.consul is 74 characters/),
    );
  });

  it("refuses an exposed lab whose Consul DNS would recurse for anyone: an open resolver", () => {
    const input = articleInput();
    input.publish = { ...input.publish, address: "192.168.1.10", exposeOnNetwork: true };
    input.consul = { recursors: ["9.9.9.9"] };
    expect(problemsOf(input)).toContainEqual(
      expect.stringContaining("publish.exposeOnNetwork: with consul.recursors set, Consul DNS on 192.168.1.10:8600"),
    );
  });
});
