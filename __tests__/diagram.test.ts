/** `npm run diagram`: the topology as an SVG that Graphviz laid out (cli/topology-diagram.ts, cli/commands/diagram.ts). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderTopologyDot, renderTopologySvg } from "../cli/topology-diagram";
import { Lab, loadTopology } from "../topology";
import { generatedTopology } from "./tools/generated-topology";
import { articleInput, exampleLab, labOf } from "./tools/helpers";
import { PROJECT_ROOT } from "./tools/synth";

jest.setTimeout(30_000);

const dir = mkdtempSync(join(tmpdir(), "consul-lab-diagram-"));
const LABS: Record<string, () => Lab> = {
  "the article's lab": () => labOf(),
  "examples/shop-lab.yaml": () =>
    new Lab(loadTopology({ CONSUL_LAB_TOPOLOGY: join(PROJECT_ROOT, "examples", "shop-lab.yaml") })),
  "a generated 60-node lab": () => labOf(generatedTopology(60)),
  "examples/three-hosts.yaml": () => exampleLab("three-hosts.yaml"),
};

/** The text of every <text> element, entities decoded. */
const textsOf = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) =>
    match[1].replace(/&#45;/g, "-").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
  );

describe.each(Object.entries(LABS))("the diagram of %s", (_name, labFor) => {
  const lab = labFor();
  let svg: string;
  beforeAll(async () => {
    svg = await renderTopologySvg(lab);
  });

  it("is an SVG document that xmllint parses", () => {
    const file = join(dir, `${lab.topology.name}.svg`);
    writeFileSync(file, svg);
    const parsed = spawnSync("xmllint", ["--noout", file], { encoding: "utf8" });
    expect(parsed.stderr).toBe("");
    expect(parsed.status).toBe(0);
    expect(svg).toMatch(/<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it("shows every node with its address and role, and every service on it with its tags", () => {
    const texts = textsOf(svg);
    for (const node of lab.nodes) {
      expect(texts).toContain(node.name);
      expect(texts).toContain(node.address);
      for (const instance of lab.instancesOn(node.name)) {
        const tags = instance.service.tags.length > 0 ? ` [${instance.service.tags.join(", ")}]` : "";
        expect(texts).toContain(`${instance.service.name}${tags} :${instance.service.port}`);
      }
    }
    expect(texts.filter((text) => /^Consul server/.test(text))).toHaveLength(lab.servers.length);
  });

  it("is the same bytes every time", async () => {
    expect(await renderTopologySvg(lab)).toBe(svg);
  });
});

describe("the default lab's diagram", () => {
  it("is current in docs/topology.svg, which the README shows", async () => {
    expect(readFileSync(join(PROJECT_ROOT, "docs", "topology.svg"), "utf8")).toBe(await renderTopologySvg(labOf()));
  });

  it("draws the sorry server as the backup of every load balancer, and the API over HTTPS", async () => {
    const svg = await renderTopologySvg(labOf());
    // Dashed (5,2): the two backup edges; dotted (1,5): the UI vhost notes.
    expect(svg.match(/stroke-dasharray="5,2"/g)?.length).toBe(2);
    expect(textsOf(svg)).toContain(":8500 Consul HTTPS API and UI");
    const open = await renderTopologySvg(labOf({ ...articleInput(), security: "none" }));
    expect(textsOf(open)).toContain(":8500 Consul HTTP API and UI");
  });
});

describe("the diagram of a lab over several hosts", () => {
  it("is current in docs/three-hosts.svg, which the README shows", async () => {
    expect(readFileSync(join(PROJECT_ROOT, "docs", "three-hosts.svg"), "utf8")).toBe(
      await renderTopologySvg(exampleLab("three-hosts.yaml")),
    );
  });

  it("puts each host's nodes in a box named with how the host is reached, and says where the ports come from", async () => {
    const lab = exampleLab("three-hosts.yaml");
    const texts = textsOf(await renderTopologySvg(lab));
    expect(texts).toEqual(
      expect.arrayContaining([
        "Docker host lab-a (ssh://ops@lab-a.example.test, swarm manager)",
        "Docker host lab-b (ssh://ops@lab-b.example.test)",
        "Docker host lab-c (context lab-c)",
        "this machine (127.0.0.1, forwarded from lab-a over ssh)",
      ]),
    );
    // Each node's box inside its host's: in the DOT, the node's line comes within its host's subgraph.
    const dot = renderTopologyDot(lab);
    for (const node of lab.nodes) {
      const box = dot.indexOf(`"cluster_docker_host:${lab.hostOf(node.name)!.name}"`);
      const next = dot.indexOf('"cluster_docker_host:', box + 1);
      const at = dot.indexOf(`"node:${node.name}" [label=`);
      expect(at > box && (next === -1 || at < next)).toBe(true);
    }
  });
});

describe("npm run diagram", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["scripts/run-ts.mjs", "cli/lab.ts", "diagram", ...args], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, CONSUL_LAB_TOPOLOGY: "", INIT_CWD: dir },
    });

  it("writes the SVG where --out says, relative to where it was run", () => {
    const result = run(["--out", "lab.svg"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`diagram: wrote ${join(dir, "lab.svg")}\n`);
    expect(readFileSync(join(dir, "lab.svg"), "utf8")).toBe(
      readFileSync(join(PROJECT_ROOT, "docs", "topology.svg"), "utf8"),
    );
  });

  it.each([
    ["into a folder that does not exist", "missing/lab.svg", "its folder"],
    ["onto a directory", ".", "it is a directory; name a file, such as lab.svg"],
  ])("says in one line why it cannot write %s", (_what, target, why) => {
    const result = run(["--out", target]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringContaining(`cannot write the diagram to`)]);
    expect(result.stderr).toContain(why);
  });

  it("refuses an argument it does not know", () => {
    const result = run(["--format", "png"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('consul-lab: diagram does not take "--format", "png"; it takes --out FILE');
  });
});
