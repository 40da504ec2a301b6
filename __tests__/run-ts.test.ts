/**
 * scripts/run-ts.mjs, which every npm script and cdktf.json run: it bundles an entry point with its dependencies,
 * rebuilds only when an input's content changes, and starts the bundle from V8's code cache.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./tools/synth";

/** A minimal project: scripts/run-ts.mjs, node_modules linked (for esbuild), and two TypeScript files. */
function project(): string {
  const root = mkdtempSync(join(tmpdir(), "consul-lab-run-ts-"));
  mkdirSync(join(root, "scripts"));
  cpSync(join(PROJECT_ROOT, "scripts", "run-ts.mjs"), join(root, "scripts", "run-ts.mjs"));
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
  writeFileSync(join(root, "greeting.ts"), 'export const greeting: string = "hello";\n');
  writeFileSync(
    join(root, "entry.ts"),
    'import { greeting } from "./greeting";\nconsole.log(`${greeting} ${process.argv.slice(2).join(" ")}`);\n',
  );
  return root;
}

function runTs(root: string, args: string[]) {
  const result = spawnSync(process.execPath, ["scripts/run-ts.mjs", ...args], { cwd: root, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const builtAt = (root: string) => statSync(join(root, ".build", "entry.js")).mtimeMs;

describe("scripts/run-ts.mjs", () => {
  it("runs a TypeScript entry point with its arguments, and rebuilds only when an input's content changes", () => {
    const root = project();
    expect(runTs(root, ["entry.ts", "a", "b"])).toEqual({ status: 0, stdout: "hello a b\n", stderr: "" });
    const first = builtAt(root);
    // A touched file with the same content is not a change.
    utimesSync(join(root, "greeting.ts"), new Date(), new Date(Date.now() + 5000));
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(builtAt(root)).toBe(first);
    writeFileSync(join(root, "greeting.ts"), 'export const greeting: string = "bonjour";\n');
    expect(runTs(root, ["entry.ts", "c"]).stdout).toBe("bonjour c\n");
    expect(builtAt(root)).not.toBe(first);
  });

  it("keeps a bundle up to date in a copy of the project, whose manifest names inputs relative to it", () => {
    const root = project();
    expect(runTs(root, ["--build", "entry.ts"])).toEqual({ status: 0, stdout: "", stderr: "" });
    const manifest = JSON.parse(readFileSync(join(root, ".build", "entry.js.inputs.json"), "utf8"));
    expect(Object.keys(manifest.inputs).sort()).toEqual([
      "entry.ts",
      "greeting.ts",
      "package-lock.json",
      "scripts/run-ts.mjs",
      "tsconfig.json",
    ]);
    const copy = mkdtempSync(join(tmpdir(), "consul-lab-run-ts-copy-"));
    cpSync(root, copy, { recursive: true, verbatimSymlinks: true });
    const built = builtAt(copy);
    expect(runTs(copy, ["entry.ts"]).stdout).toBe("hello \n");
    expect(builtAt(copy)).toBe(built);
  });

  it("rebuilds when the files that decide how it builds change (this runner, tsconfig.json, the lockfile)", () => {
    const root = project();
    runTs(root, ["--build", "entry.ts"]);
    const first = builtAt(root);
    writeFileSync(join(root, "tsconfig.json"), '{ "compilerOptions": { "strict": true } }\n');
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(builtAt(root)).not.toBe(first);
  });

  /** The code cache files beside the entry's bundle. */
  const caches = (root: string) => readdirSync(join(root, ".build")).filter((name) => name.endsWith(".cache"));

  it("starts from V8's code cache of this very bundle, and replaces a cache V8 refuses", () => {
    const root = project();
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(caches(root)).toHaveLength(1);
    const cache = join(root, ".build", caches(root)[0]);
    const written = readFileSync(cache);
    expect(written.length).toBeGreaterThan(0);
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(readFileSync(cache).equals(written)).toBe(true);
    writeFileSync(cache, "not a code cache");
    expect(runTs(root, ["entry.ts", "again"])).toEqual({ status: 0, stdout: "hello again\n", stderr: "" });
    expect(readFileSync(cache).toString()).not.toBe("not a code cache");
  });

  it("never runs a cache of an older bundle of the same length (V8 checks only the length)", () => {
    const root = project();
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    writeFileSync(join(root, "greeting.ts"), 'export const greeting: string = "howdy";\n');
    expect(runTs(root, ["entry.ts"]).stdout).toBe("howdy \n");
    // The older bundle's cache is gone: one cache, of the bundle that runs.
    expect(caches(root)).toHaveLength(1);
  });

  it("turns a dynamic import, even of a computed name, into a require a cached start can run", () => {
    const root = project();
    writeFileSync(
      join(root, "entry.ts"),
      'const name = ["node", "os"].join(":");\nvoid import(name).then((os) => console.log(typeof os.cpus));\n',
    );
    expect(runTs(root, ["entry.ts"])).toEqual({ status: 0, stdout: "function\n", stderr: "" });
  });

  it("keeps cdktf's zip helper a file of its own, so an archive asset is zipped instead of the bundle run again", () => {
    const root = project();
    mkdirSync(join(root, "site"));
    writeFileSync(join(root, "site", "index.html"), "<p>hello</p>\n");
    writeFileSync(
      join(root, "entry.ts"),
      [
        'import { App, AssetType, TerraformAsset, TerraformStack } from "cdktf";',
        // Started again by the zip helper, the bundle stops at once instead of recursing.
        'if (process.env.ENTRY_STARTED) { console.error("the bundle was started again"); process.exit(1); }',
        'process.env.ENTRY_STARTED = "1";',
        'console.log("synth starts");',
        "const app = new App({ outdir: process.argv[2], skipValidation: true });",
        'const path = require("node:path").resolve("site");',
        'new TerraformAsset(new TerraformStack(app, "s"), "site", { path, type: AssetType.ARCHIVE });',
        "app.synth();",
        "",
      ].join("\n"),
    );
    const outdir = join(root, "out");
    const result = runTs(root, ["entry.ts", outdir]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("synth starts\n");
    expect(result.status).toBe(0);
    const archives = readdirSync(join(outdir, "stacks", "s", "assets"), { recursive: true }).filter((name) =>
      String(name).endsWith(".zip"),
    );
    expect(archives).toHaveLength(1);
  });
});
