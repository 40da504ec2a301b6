// Runs a TypeScript entry point: `node scripts/run-ts.mjs FILE.ts [ARGS...]`.
// esbuild only strips types (type checking is `npm run lint`'s job), so start-up stays fast; cdktf.json's
// app and the npm scripts all go through here. The bundle holds the dependencies too: Node then reads one file
// instead of resolving and reading some six hundred, which takes about a third off the app's start. A bundle is
// rebuilt only when the content of a file it was built from changed (a digest per input, from esbuild's metafile,
// dependencies included), not when a timestamp moved.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const digest = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
// Paths in a manifest are relative to the project, so a copy of the checkout with its .build/ is up to date too.
const fromRoot = (file) => relative(root, resolve(file));

const bundleOf = (entry) => join(root, ".build", `${basename(entry, ".ts")}.js`);

/**
 * The bundle's manifest when it was built from this entry and every input still has the content it was built from;
 * else undefined.
 */
function upToDate(entry) {
  const outfile = bundleOf(entry);
  const manifestFile = `${outfile}.inputs.json`;
  if (process.env.CONSUL_LAB_REBUILD === "1" || !existsSync(outfile) || !existsSync(manifestFile)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.entry !== fromRoot(entry)) return undefined;
    const current = Object.entries(manifest.inputs).every(([file, sha]) => {
      const path = join(root, file);
      return existsSync(path) && digest(path) === sha;
    });
    return current ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the entry's bundle unless it is up to date; returns its path and manifest. */
async function build(entry) {
  const outfile = bundleOf(entry);
  const current = upToDate(entry);
  if (current) return { outfile, manifest: current };
  // Built under a name of its own, then renamed into place: runs in parallel never read a half-written bundle.
  const partial = `${outfile}.${process.pid}.tmp`;
  // Loaded only when a build is needed: an up-to-date run skips esbuild altogether.
  const { buildSync } = await import("esbuild");
  const result = buildSync({
    entryPoints: [resolve(entry)],
    outfile: partial,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    metafile: true,
  });
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs).map((input) => [fromRoot(input), digest(resolve(input))]),
  );
  // A dynamic import() cannot run from a vm.Script on Node 20 (see runBundle).
  const dynamicImport = Object.values(result.metafile.outputs).some((output) =>
    output.imports.some((imported) => imported.kind === "dynamic-import"),
  );
  renameSync(partial, outfile);
  const manifest = { entry: fromRoot(entry), inputs, dynamicImport };
  writeFileAtomically(`${outfile}.inputs.json`, JSON.stringify(manifest));
  return { outfile, manifest };
}

function writeFileAtomically(file, data) {
  writeFileSync(`${file}.${process.pid}.tmp`, data);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/**
 * Runs a bundle as `require` would, with V8's code cache for it kept beside it (`NAME.js.cache`): a start then skips
 * compiling what the last run compiled, about a third of the app's start. V8 refuses a cache made from other source or
 * by another Node, and a refused or missing one is written again when the process exits.
 */
function runBundle(outfile, manifest) {
  if (manifest.dynamicImport) return createRequire(import.meta.url)(outfile);
  const cacheFile = `${outfile}.cache`;
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new Script(Module.wrap(readFileSync(outfile, "utf8")), { filename: outfile, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        writeFileAtomically(cacheFile, script.createCachedData());
      } catch {
        // A cache that cannot be written only costs the next start some time.
      }
    });
  }
  const bundle = new Module(outfile);
  bundle.filename = outfile;
  const load = script.runInThisContext();
  load.call(bundle.exports, bundle.exports, createRequire(outfile), bundle, outfile, dirname(outfile));
}

const [first, ...rest] = process.argv.slice(2);
if (!first) {
  console.error("usage: node scripts/run-ts.mjs FILE.ts [ARGS...]\n       node scripts/run-ts.mjs --build FILE.ts...");
  process.exit(2);
}
if (first === "--build") {
  // Builds (or checks) bundles without running them, e.g. once before a test run.
  for (const entry of rest) await build(entry);
} else {
  const { outfile, manifest } = await build(first);
  process.argv = [process.argv[0], outfile, ...rest];
  runBundle(outfile, manifest);
}
