// Runs a TypeScript entry point: `node scripts/run-ts.mjs FILE.ts [ARGS...]`.
// esbuild only strips types (type checking is `npm run lint`'s job), so start-up stays fast; cdktf.json's
// app and the npm scripts all go through here. The bundle holds the dependencies too: Node then reads one file
// instead of resolving and reading some six hundred, which takes about a third off the app's start. A bundle is
// rebuilt only when the content of a file it was built from changed (a digest per input, from esbuild's metafile,
// dependencies included), not when a timestamp moved.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/run-ts.mjs FILE.ts [ARGS...]");
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, ".build", `${basename(entry, ".ts")}.js`);
const manifestFile = `${outfile}.inputs.json`;
const entryPath = resolve(entry);
const digest = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Whether the bundle was built from this entry and every input still has the content it was built from. */
function upToDate() {
  if (process.env.CONSUL_LAB_REBUILD === "1" || !existsSync(outfile) || !existsSync(manifestFile)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.entry !== entryPath) return false;
    return Object.entries(manifest.inputs).every(([file, sha]) => existsSync(file) && digest(file) === sha);
  } catch {
    return false;
  }
}

if (!upToDate()) {
  // Built under a name of its own, then renamed into place: runs in parallel never read a half-written bundle.
  const partial = `${outfile}.${process.pid}.tmp`;
  // Loaded only when a build is needed: an up-to-date run skips esbuild altogether.
  const { buildSync } = await import("esbuild");
  const result = buildSync({
    entryPoints: [entryPath],
    outfile: partial,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    metafile: true,
  });
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs).map((input) => {
      const file = resolve(input);
      return [file, digest(file)];
    }),
  );
  renameSync(partial, outfile);
  writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify({ entry: entryPath, inputs }));
  renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
}
process.argv = [process.argv[0], outfile, ...args];
createRequire(import.meta.url)(outfile);
