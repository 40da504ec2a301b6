// Runs a TypeScript entry point: `node scripts/run-ts.mjs FILE.ts [ARGS...]`.
// esbuild only strips types (type checking is `npm run lint`'s job), so start-up stays fast; cdktf.json's
// app and the npm scripts all go through here. The bundle holds the dependencies too: Node then reads one file
// instead of resolving and reading some six hundred, which takes about a third off the app's start. A bundle is
// rebuilt only when the content of a file it was built from changed (a digest per input, from esbuild's metafile,
// dependencies included), not when a timestamp moved.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const digest = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");
// Paths in a manifest are relative to the project, so a copy of the checkout with its .build/ is up to date too.
const fromRoot = (file) => relative(root, resolve(file));

const bundleOf = (entry) => join(root, ".build", `${basename(entry, ".ts")}.js`);

/** Whether the bundle was built from this entry and every input still has the content it was built from. */
function upToDate(entry) {
  const outfile = bundleOf(entry);
  const manifestFile = `${outfile}.inputs.json`;
  if (process.env.CONSUL_LAB_REBUILD === "1" || !existsSync(outfile) || !existsSync(manifestFile)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.entry !== fromRoot(entry)) return false;
    return Object.entries(manifest.inputs).every(([file, sha]) => {
      const path = join(root, file);
      return existsSync(path) && digest(path) === sha;
    });
  } catch {
    return false;
  }
}

/** Builds the entry's bundle unless it is up to date; returns its path. */
async function build(entry) {
  const outfile = bundleOf(entry);
  if (upToDate(entry)) return outfile;
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
  renameSync(partial, outfile);
  const manifestFile = `${outfile}.inputs.json`;
  writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify({ entry: fromRoot(entry), inputs }));
  renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
  return outfile;
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
  const outfile = await build(first);
  process.argv = [process.argv[0], outfile, ...rest];
  createRequire(import.meta.url)(outfile);
}
