/**
 * The shape of the house, checked over every source file's imports: data flows one way (topology -> shared ->
 * renderers -> secrets -> constructs -> stacks -> runtime -> verify -> the CLI and main.ts), renderers never import
 * cdktf, the lab's definition (renderers, secrets, constructs, stacks) never imports runtime/ (what talks to engines,
 * ssh, processes and the lab's API), the runtime and the tools never import the lab's definition's constructs or
 * renderers, and no file imports itself back through others.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { PROJECT_ROOT } from "./tools/synth";

const LAYERS = [
  "topology",
  "shared",
  "renderers",
  "secrets",
  "constructs",
  "stacks",
  "runtime",
  "verify",
  "cli",
] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

const files = [...LAYERS.flatMap((layer) => sourceFiles(join(PROJECT_ROOT, layer))), join(PROJECT_ROOT, "main.ts")];

/** Every module a file names: static imports and re-exports (one line or many), side-effect imports, import(), require(). */
const IMPORT_FORMS =
  /(?:^|\n)\s*(?:import|export)\b[^"'`]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']/g;

/** The project files a file imports, resolved to paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT_FORMS)]
    .map((match) => match[1] ?? match[2] ?? match[3] ?? match[4])
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => {
      const target = resolve(dirname(file), specifier);
      for (const candidate of [`${target}.ts`, join(target, "index.ts"), target]) {
        try {
          if (statSync(candidate).isFile()) return candidate;
        } catch {
          // try the next form
        }
      }
      return target;
    });
}

const layerOf = (file: string) => {
  const top = relative(PROJECT_ROOT, file).split("/")[0];
  return top === "main.ts" ? LAYERS.length : LAYERS.indexOf(top as (typeof LAYERS)[number]);
};

describe("the import graph", () => {
  it("reads every layer's files", () => {
    for (const layer of LAYERS)
      expect(files.some((file) => relative(PROJECT_ROOT, file).startsWith(`${layer}/`))).toBe(true);
  });

  it("reads every import form", () => {
    const forms = [
      'import { a } from "../secrets";',
      'import type {\n  b,\n} from "../secrets";',
      'export * from "../secrets";',
      'import "../secrets";',
      'const c = await import("../secrets");',
      "const d = require('../secrets');",
    ];
    for (const form of forms)
      expect([...form.matchAll(IMPORT_FORMS)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4])).toEqual(["../secrets"]);
  });

  it("has no edge from a layer to a later one", () => {
    const backEdges = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => layerOf(target) > layerOf(file))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
    );
    expect(files.flatMap(importsOf).length).toBeGreaterThan(50);
    expect(backEdges).toEqual([]);
  });

  it("keeps cdktf and file I/O out of the renderers", () => {
    const renderers = files.filter((file) => relative(PROJECT_ROOT, file).startsWith("renderers/"));
    expect(renderers.length).toBeGreaterThan(5);
    for (const file of renderers)
      expect({ file, text: readFileSync(file, "utf8") }).not.toMatchObject({
        text: expect.stringMatching(/["'](cdktf|constructs|@cdktf\/[^"']+|(node:)?fs(\/promises)?)["']/),
      });
  });

  it("keeps the runtime and the tools (the deploy CLI and verify) off the lab's definition: no import of constructs/ or renderers/", () => {
    const tools = files.filter((file) => /^(runtime|cli|verify)\//.test(relative(PROJECT_ROOT, file)));
    expect(tools.length).toBeGreaterThan(20);
    const edges = tools.flatMap((file) =>
      importsOf(file)
        .filter((target) => /^(constructs|renderers)\//.test(relative(PROJECT_ROOT, target)))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
    );
    expect(edges).toEqual([]);
  });

  it("keeps runtime/ out of the lab's definition, and shared/ free of processes, sockets and engines", () => {
    const definition = files.filter((file) =>
      /^(topology|shared|renderers|secrets|constructs|stacks)\//.test(relative(PROJECT_ROOT, file)),
    );
    const edges = definition.flatMap((file) =>
      importsOf(file)
        .filter((target) => relative(PROJECT_ROOT, target).startsWith("runtime/"))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${relative(PROJECT_ROOT, target)}`),
    );
    expect(edges).toEqual([]);
    // What runs a program or opens a socket lives in runtime/ (the deploy-time scripts and the CLI aside).
    const talking = files
      .filter((file) => relative(PROJECT_ROOT, file).startsWith("shared/"))
      .filter((file) => /["']node:(child_process|net|http|https|dgram|tls)["']/.test(readFileSync(file, "utf8")));
    expect(talking.map((file) => relative(PROJECT_ROOT, file))).toEqual([]);
  });

  it("keeps shared/ to facts: it imports the topology and nothing else of the project", () => {
    const shared = files.filter((file) => relative(PROJECT_ROOT, file).startsWith("shared/"));
    const edges = shared.flatMap((file) =>
      importsOf(file)
        .map((target) => relative(PROJECT_ROOT, target))
        .filter((target) => !/^(shared|topology)\//.test(target))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${target}`),
    );
    expect(edges).toEqual([]);
  });

  it("has no cycle between files", () => {
    const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => files.includes(target))]));
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(PROJECT_ROOT, f)).join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
