/**
 * Every agent config the lab renders is one Consul 1.20 would load: each key of agent.json and secrets.json is a key
 * of Consul's config (the table read from agent/config/config.go at v1.20.2, __tests__/twin/), matched as Consul
 * matches keys (case-insensitively), and each value of the kind that key takes. A key Consul does not know stops the
 * real agent at start with "invalid config key <path>" (agent/config/builder.go:359); no test here ran Consul itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { renderAgentConfigFiles } from "../renderers";
import { articleInput, labOf, TEST_AGENT_SECRETS } from "./tools/helpers";
import { PROJECT_ROOT } from "./tools/synth";

const TABLE = JSON.parse(readFileSync(join(__dirname, "twin", "consul-1.20-config-keys.json"), "utf8")) as {
  keys: Record<string, string>;
};
const KEYS = new Map(Object.entries(TABLE.keys).map(([key, type]) => [key.toLowerCase(), type]));
/** The structures the table lists the fields of (`ports`, `services[]`, `tls.defaults`): every prefix of a key. */
const STRUCTURES = new Set(
  [...KEYS.keys()].flatMap((key) => {
    const parts: string[] = [];
    for (let at = 0; at < key.length; at++)
      if (key[at] === "." || key.startsWith("[]", at)) parts.push(key.slice(0, at));
    return parts;
  }),
);

/** The problems Consul would report for one config file's JSON, in its words where it has them. */
export function consulConfigProblems(config: unknown): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, path: string, shown: string) => {
    const type = KEYS.get(path.toLowerCase())?.replace(/ \(deprecated\)$/, "");
    if (path !== "" && type === undefined && !STRUCTURES.has(path.toLowerCase())) {
      problems.push(`invalid config key ${shown}`);
      return;
    }
    // A map of the user's own keys, or of anything: Consul does not look inside here.
    if (type && /^(map\[|\[\]map\[)/.test(type)) return;
    const kind = (expected: string, ok: boolean) => {
      if (!ok) problems.push(`'${shown}' expected type '${expected}', got ${JSON.stringify(value)}`);
    };
    if (type === "string") return kind("string", typeof value === "string");
    if (type === "bool") return kind("bool", typeof value === "boolean");
    if (type && /^u?int(32|64)?$|^float64$/.test(type)) return kind(type, typeof value === "number");
    if (type === "[]string") return kind("[]string", Array.isArray(value) && value.every((v) => typeof v === "string"));
    if (Array.isArray(value)) {
      value.forEach((element, index) => walk(element, `${path}[]`, `${shown}[${index}]`));
      return;
    }
    if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value))
        walk(child, path ? `${path}.${key}` : key, shown ? `${shown}.${key}` : key);
      return;
    }
    problems.push(`'${shown}' is ${JSON.stringify(value)}, where Consul's ${type} is a structure`);
  };
  walk(config, "", "");
  return problems;
}

const examples: [string, unknown][] = [
  ["the article's lab", articleInput()],
  ["its open variant", { ...articleInput(), security: "none" }],
  ["the shop example", parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "shop-lab.yaml"), "utf8"))],
  ["the three-host example", parseYaml(readFileSync(join(PROJECT_ROOT, "examples", "three-hosts.yaml"), "utf8"))],
];

describe("the rendered agent configs, against Consul 1.20's config keys", () => {
  it.each(examples)("has only keys and kinds Consul knows: %s", (_name, input) => {
    const lab = labOf(input);
    for (const node of lab.nodes) {
      const files = renderAgentConfigFiles(lab, node.name, TEST_AGENT_SECRETS);
      for (const [file, text] of Object.entries(files))
        expect({ node: node.name, file, problems: consulConfigProblems(JSON.parse(text)) }).toEqual({
          node: node.name,
          file,
          problems: [],
        });
    }
  });

  it("names a key Consul does not know, and a value of the wrong kind, as Consul would", () => {
    expect(
      consulConfigProblems({
        ports: { http: 8500, grpc_tsl: 8503 },
        tls: { defaults: { verify_incoming: "yes" } },
        services: [{ name: "web", checks: [{ htp: "http://x" }] }],
        Node_Name: "dev1001",
      }),
    ).toEqual([
      "invalid config key ports.grpc_tsl",
      `'tls.defaults.verify_incoming' expected type 'bool', got "yes"`,
      "invalid config key services[0].checks[0].htp",
    ]);
  });
});
