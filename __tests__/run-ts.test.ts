/**
 * scripts/run-ts.mjs, which every npm script and cdktf.json run: it bundles an entry point with its dependencies,
 * rebuilds only when an input's content changes, and starts the bundle from V8's code cache.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./synth";

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
    expect(Object.keys(manifest.inputs).sort()).toEqual(["entry.ts", "greeting.ts"]);
    const copy = mkdtempSync(join(tmpdir(), "consul-lab-run-ts-copy-"));
    cpSync(root, copy, { recursive: true, verbatimSymlinks: true });
    const built = builtAt(copy);
    expect(runTs(copy, ["entry.ts"]).stdout).toBe("hello \n");
    expect(builtAt(copy)).toBe(built);
  });

  it("starts from V8's code cache, and replaces a cache V8 refuses", () => {
    const root = project();
    const cache = join(root, ".build", "entry.js.cache");
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(existsSync(cache)).toBe(true);
    const written = readFileSync(cache);
    expect(written.length).toBeGreaterThan(0);
    expect(runTs(root, ["entry.ts"]).stdout).toBe("hello \n");
    expect(readFileSync(cache).equals(written)).toBe(true);
    writeFileSync(cache, "not a code cache");
    expect(runTs(root, ["entry.ts", "again"])).toEqual({ status: 0, stdout: "hello again\n", stderr: "" });
    expect(readFileSync(cache).toString()).not.toBe("not a code cache");
  });

  it("runs a bundle that imports dynamically, which a code-cached start cannot, the plain way", () => {
    const root = project();
    writeFileSync(join(root, "entry.ts"), 'void import("node:os").then((os) => console.log(typeof os.cpus));\n');
    expect(runTs(root, ["entry.ts"])).toEqual({ status: 0, stdout: "function\n", stderr: "" });
    expect(existsSync(join(root, ".build", "entry.js.cache"))).toBe(false);
  });
});
