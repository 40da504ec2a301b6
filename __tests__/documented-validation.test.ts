/**
 * The list of validation rules in docs/topology.md is the code's (RELATION_RULES, topology/validate.ts): the same lines in the
 * same order, and each rule refuses the topology that breaks it, by itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { RELATION_RULES } from "../topology/validate";
import { TopologySchema } from "../topology";
import { articleInput, problemsOf } from "./tools/helpers";

const TOPOLOGY_DOC = readFileSync(join(__dirname, "..", "docs", "topology.md"), "utf8");
const threeHosts = () => parse(readFileSync(join(__dirname, "..", "examples", "three-hosts.yaml"), "utf8"));

/** The documented list, between its markers. */
const listed = () =>
  /<!-- validation-rules:start -->([\s\S]*?)<!-- validation-rules:end -->/.exec(TOPOLOGY_DOC)?.[1].trim() ?? "";

/** What the documentation shows for the rules: one bullet each, in the code's order. */
const renderedRules = () => RELATION_RULES.map((rule) => `- ${rule.rule}`).join("\n");

type RuleId = (typeof RELATION_RULES)[number]["id"];

/** For each rule, a topology that breaks it and nothing else the schema would refuse first. */
const BREAKS: Record<RuleId, () => any> = {
  nodes: () => {
    const input = articleInput();
    input.nodes[4].address = input.nodes[3].address;
    return input;
  },
  hosts: () => {
    const input = threeHosts();
    input.hosts[1].name = input.hosts[0].name;
    return input;
  },
  network: () => {
    const input = articleInput();
    input.nodes[0].address = "10.0.9.1";
    return input;
  },
  services: () => {
    const input = articleInput();
    input.services[0].nodes.push("dev9999");
    return input;
  },
  "site-tags": () => ({ ...articleInput(), site: { sorryTag: "web" } }),
  "site-roles": () => ({ ...articleInput(), site: { entryService: "nowhere" } }),
  "site-instances": () => {
    const input = articleInput();
    input.services = input.services.filter((service: any) => !service.tags.includes("sorry"));
    return input;
  },
  entry: () => {
    const input = articleInput();
    input.services[0].nodes.push("dev1002");
    return input;
  },
  workloads: () => {
    const input = articleInput();
    input.services[1].nodes.push("dev1004");
    return input;
  },
  ports: () => {
    const input = articleInput();
    input.publish = { httpPort: 18500, dnsPort: 18500 };
    return input;
  },
  dns: () => ({ ...articleInput(), consul: { recursors: ["10.0.1.4"] } }),
  "server-tls-name": () => ({ ...articleInput(), datacenter: "d".repeat(60) }),
  "consul-template": () => ({ ...articleInput(), consulTemplate: { wait: { min: "10s", max: "5s" } } }),
  "consul-stack": () => ({ ...articleInput(), site: { maintenanceKey: "flag" } }),
  "reserved-names": () => ({ ...articleInput(), name: "bridge" }),
  "consul-case": () => {
    const input = articleInput();
    input.services[0].tags = ["master", "MASTER"];
    return input;
  },
  "pod-listeners": () => ({ ...articleInput(), consul: { ports: { dns: 53 } } }),
};

describe("the validation rules in docs/topology.md", () => {
  it("lists exactly the rules the code checks, in its order", () => {
    expect(listed()).toBe(renderedRules());
  });

  it.each(RELATION_RULES.map((rule) => [rule.id, rule] as const))(
    "%s refuses the topology that breaks it",
    (id, rule) => {
      const input = BREAKS[id]();
      const parsed = TopologySchema.safeParse(input);
      expect(parsed.error?.issues ?? []).toEqual([]);
      const own: string[] = [];
      rule.check(parsed.data!, (path, message) => own.push(`${path}: ${message}`), new Set());
      expect(own.length).toBeGreaterThan(0);
      // And validation as a whole reports it.
      expect(problemsOf(input)).toEqual(expect.arrayContaining(own));
    },
  );
});
