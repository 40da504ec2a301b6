import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { ARTICLE_TOPOLOGY, loadTopology, parseTopology, TopologyError, TOPOLOGY_ENV } from "../topology";
import { articleInput } from "./tools/helpers";

const dir = mkdtempSync(join(tmpdir(), "consul-lab-topology-"));

function writeFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function loadError(file: string): TopologyError {
  try {
    loadTopology({ [TOPOLOGY_ENV]: file });
  } catch (error) {
    if (error instanceof TopologyError) return error;
    throw error;
  }
  throw new Error("expected a TopologyError");
}

describe("loading the topology", () => {
  it("uses the article's lab when CONSUL_LAB_TOPOLOGY is unset", () => {
    expect(loadTopology({})).toEqual(parseTopology(ARTICLE_TOPOLOGY));
  });

  it("reads a JSON file and applies defaults", () => {
    const input = articleInput();
    input.datacenter = "tokyo";
    const topology = loadTopology({ [TOPOLOGY_ENV]: writeFile("lab.json", JSON.stringify(input)) });
    expect(topology.datacenter).toBe("tokyo");
    expect(topology.consul.ports.http).toBe(8500);
  });

  it("reads a YAML file", () => {
    const input = articleInput();
    input.nodes.push({ name: "dev1007", address: "10.0.1.7", role: "client" });
    input.services[2].nodes.push("dev1007");
    const topology = loadTopology({ [TOPOLOGY_ENV]: writeFile("lab.yaml", toYaml(input)) });
    expect(topology.nodes.map((node) => node.name)).toContain("dev1007");
  });

  it("round-trips its own printed form", () => {
    const printed = JSON.stringify(loadTopology({}));
    expect(loadTopology({ [TOPOLOGY_ENV]: writeFile("printed.json", printed) })).toEqual(loadTopology({}));
  });

  it("names the file and every problem in it", () => {
    const input = articleInput();
    input.nodes[4].name = "dev1004";
    input.services[0].port = 0;
    const file = writeFile("bad.json", JSON.stringify(input));
    const error = loadError(file);
    expect(error.message).toMatch(
      new RegExp(`^CONSUL_LAB_TOPOLOGY file ${file} is not a valid topology \\(\\d+ problems?\\):\n`),
    );
    expect(error.message).toContain("services[0].port: port must be 1-65535");
  });

  it("reports a missing file", () => {
    expect(loadError(join(dir, "missing.yaml")).problems).toEqual([
      { path: "", message: "cannot read the file: no such file" },
    ]);
  });

  it("reports a file it cannot parse", () => {
    const problems = loadError(writeFile("broken.json", "{ nodes: ")).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/^cannot parse the file: /);
  });

  it.each(["lab.json", "lab.yaml"])("recognises npm's banner in %s, written by `npm run topology > file`", (name) => {
    const written = '\n> consul-lab@0.1.0 topology\n> node scripts/run-ts.mjs cli/lab.ts topology\n\n{"name": "lab"}\n';
    expect(loadError(writeFile(name, written)).problems).toEqual([
      {
        path: "",
        message: `starts with npm's banner ("> consul-lab@0.1.0 topology"): it was written by \`npm run topology > file\`; write it again with \`npm run --silent topology > ${name}\`, or delete the lines that start with ">"`,
      },
    ]);
  });

  it("says where a JSON syntax error is as line and column, not a character offset", () => {
    const problems = loadError(writeFile("trailing-comma.json", '{\n  "name": "lab",\n  }\n')).problems;
    expect(problems).toEqual([
      { path: "line 3, column 3", message: "cannot parse the file: Expected double-quoted property name" },
    ]);
  });

  it.each([
    ["UTF-16 text", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("name: lab\n", "utf16le")])],
    ["not text (it holds NUL bytes)", Buffer.from("name: lab\u0000\n")],
  ])("names a file that is %s", (kind, bytes) => {
    const file = join(dir, `encoded-${kind.length}.yaml`);
    writeFileSync(file, bytes);
    expect(loadError(file).problems).toEqual([{ path: "", message: `is ${kind}; save it as UTF-8` }]);
  });

  it.each([
    ["a Cyrillic a", "n\u0430me", "n\\u0430me"],
    ["a no-break space", "name\u00a0", "name\\u00a0"],
  ])("shows a key with %s escaped, so it is not taken for the field it looks like", (_what, key, shown) => {
    const problems = (() => {
      try {
        parseTopology({ ...ARTICLE_TOPOLOGY, [key]: "lab" });
      } catch (error) {
        return (error as TopologyError).problems;
      }
      return [];
    })();
    expect(problems).toContainEqual({
      path: shown,
      message: `unknown field "${shown}"; remove it or check its spelling`,
    });
  });

  it("rejects an unknown file type", () => {
    expect(loadError(writeFile("lab.toml", "")).problems[0].message).toBe(
      'unsupported file type ".toml"; use .json, .yaml or .yml',
    );
  });
});

describe("a relative CONSUL_LAB_TOPOLOGY", () => {
  it("is the caller's path (npm's INIT_CWD), and errors name it whole", () => {
    const caller = mkdtempSync(join(tmpdir(), "consul-lab-caller-"));
    writeFileSync(join(caller, "lab.json"), JSON.stringify(ARTICLE_TOPOLOGY));
    expect(loadTopology({ CONSUL_LAB_TOPOLOGY: "lab.json", INIT_CWD: caller }).name).toBe("consul-lab");
    expect(() => loadTopology({ CONSUL_LAB_TOPOLOGY: "missing.json", INIT_CWD: caller })).toThrow(
      `${join(caller, "missing.json")}`,
    );
  });
});

describe("a topology file that is not one plain document", () => {
  const dir = mkdtempSync(join(tmpdir(), "consul-lab-yaml-"));
  const problemsIn = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    try {
      loadTopology({ CONSUL_LAB_TOPOLOGY: file });
    } catch (error) {
      if (error instanceof TopologyError) return error.message;
      throw error;
    }
    return "";
  };

  it.each([
    ["empty.yaml", ""],
    ["comments.yaml", "# nothing here\n\n"],
    ["empty.json", "  \n"],
  ])("says %s is empty", (name, text) => {
    expect(problemsIn(name, text)).toContain("the file is empty");
  });

  it.each([
    [
      "!!set",
      "kv: !!set { web/a, web/b }\n",
      "line 1, column 11: the tag !!set would turn this value into another type",
    ],
    [
      "!!omap",
      "kv: !!omap\n  - web/a: b\n",
      "line 2, column 3: the tag !!omap would turn this value into another type",
    ],
    [
      "!!binary",
      "name: !!binary bGFi\n",
      "line 1, column 16: the tag !!binary would turn this value into another type",
    ],
  ])("refuses the YAML tag %s, which changes a value's type, with where it is", (_tag, text, problem) => {
    expect(problemsIn("tagged.yaml", text)).toContain(problem);
  });

  it("reads the tags that keep a value what it is", () => {
    const text = toYaml(ARTICLE_TOPOLOGY).replace(/^datacenter: /m, "datacenter: !!str ");
    expect(text).toContain("datacenter: !!str ");
    const file = writeFile("plain-tags.yaml", text);
    expect(loadTopology({ [TOPOLOGY_ENV]: file }).datacenter).toBe(parseTopology(ARTICLE_TOPOLOGY).datacenter);
  });

  it.each([
    ["a named pipe (FIFO)", (path: string) => execFileSync("mkfifo", [path])],
    ["a directory", (path: string) => mkdirSync(path)],
  ])("refuses %s before opening it, instead of blocking on the read", (kind, make) => {
    const path = join(mkdtempSync(join(tmpdir(), "consul-lab-not-a-file-")), "lab.yaml");
    make(path);
    expect(loadError(path).message).toContain(`is ${kind}, not a regular file; name a .json or .yaml file`);
  });

  it("refuses a second YAML document instead of dropping it", () => {
    expect(problemsIn("two.yaml", "name: a\n---\nname: b\n")).toContain("the file holds 2 YAML documents");
  });

  it("stops an alias bomb with one line, not a stack trace", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [index, name] of ["b", "c", "d", "e", "f", "g"].entries())
      levels.push(`${name}: &${name} [${Array(9).fill(`*${"abcdefg"[index]}`).join(", ")}]`);
    expect(problemsIn("bomb.yaml", `${levels.join("\n")}\n`)).toContain("the file's aliases expand too far");
  });

  it("reads merge keys", () => {
    const input = structuredClone(ARTICLE_TOPOLOGY) as any;
    // A merge key inside each node, as a user would write one.
    const nodes = input.nodes
      .map((node: any) => `  - {name: ${node.name}, address: ${node.address}, <<: {role: ${node.role}}}`)
      .join("\n");
    const rest = Object.entries(input)
      .filter(([key]) => key !== "nodes")
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join("\n");
    expect(problemsIn("merge.yaml", `nodes:\n${nodes}\n${rest}\n`)).toBe("");
  });
});
