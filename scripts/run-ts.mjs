// Runs a TypeScript entry point: `node scripts/run-ts.mjs FILE.ts [ARGS...]`.
// esbuild only strips types (type checking is `npm run lint`'s job), so start-up stays fast; cdktf.json's
// app and the npm scripts all go through here. The bundle holds the dependencies too: Node then reads one file
// instead of resolving and reading some six hundred, which takes about a third off the app's start. A bundle is
// rebuilt only when the content of a file it was built from changed (a digest per input, from esbuild's metafile,
// dependencies included, and of this file, tsconfig.json and the lockfile, which decide how it is built), not when
// a timestamp moved (see upToDate). It then starts from V8's code cache (see runBundle).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const digest = (data) => createHash("sha256").update(data).digest("hex");
// Paths in a manifest are relative to the project, so a copy of the checkout with its .build/ is up to date too.
const fromRoot = (file) => relative(root, resolve(file));
/** What decides how every bundle is built, besides its own inputs (the lockfile pins esbuild). */
const BUILD_SETTINGS = ["scripts/run-ts.mjs", "tsconfig.json", "package-lock.json"];

const bundleOf = (entry) => join(root, ".build", `${basename(entry, ".ts")}.js`);

/**
 * cdktf's private/fs zips an archive asset by running its own file as a program (`node ${__filename}`). Inside a
 * bundle, __filename is the bundle, which would start the app again instead; so the bundled copy runs the module's own
 * file from node_modules. Bundling it keeps the start fast (loading it and the zip library from node_modules costs
 * about 60 ms); a cdktf whose file no longer reads so fails the build here, and run-ts.test.ts zips an asset.
 */
const CDKTF_ZIP_HELPER = /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]private[\\/]fs\.js$/;
const RUNS_ITSELF = "node ${__filename}";

const cdktfZipHelperRunsItsOwnFile = {
  name: "cdktf-zip-helper-runs-its-own-file",
  setup(build) {
    build.onLoad({ filter: CDKTF_ZIP_HELPER }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (source.split(RUNS_ITSELF).length !== 2)
        throw new Error(`${args.path} no longer runs "${RUNS_ITSELF}" once; see CDKTF_ZIP_HELPER in run-ts.mjs`);
      const ownFile = 'require("node:module").createRequire(__filename).resolve("cdktf/lib/private/fs.js")';
      return { contents: source.replace(RUNS_ITSELF, `node \${${ownFile}}`), loader: "js" };
    });
  },
};

/**
 * What a manifest records of an input: its digest, and the size and time that let a later check skip hashing it. A
 * file changed in the last two seconds gets no size and time: a second save within the file system's clock tick
 * would keep both, so until it settles it is hashed on every check (git calls these entries "racy").
 */
function inputRecord(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return { sha: "absent" };
  const sha = digest(readFileSync(path));
  return Date.now() - stat.mtimeMs < 2000 ? { sha } : { sha, size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * Whether the bundle was built from this entry, with these build settings, and every input still has the content it
 * was built from. An input with the size and modification time recorded is taken as unchanged; any other is hashed,
 * so a file that was only touched (a checkout, a copy) does not cause a rebuild, and its new time is recorded.
 */
function upToDate(entry) {
  const outfile = bundleOf(entry);
  const manifestFile = `${outfile}.inputs.json`;
  if (process.env.CONSUL_LAB_REBUILD === "1" || !existsSync(outfile) || !existsSync(manifestFile)) return false;
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    if (manifest.entry !== fromRoot(entry)) return false;
    let settled = false;
    for (const [file, recorded] of Object.entries(manifest.inputs)) {
      const path = join(root, file);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) {
        if (recorded.sha === "absent") continue;
        return false;
      }
      if (stat.size === recorded.size && stat.mtimeMs === recorded.mtimeMs) continue;
      const now = inputRecord(path);
      if (now.sha !== recorded.sha) return false;
      // Only touched: its time is recorded once it has settled, so the next check need not hash it.
      if (now.mtimeMs !== undefined) {
        manifest.inputs[file] = now;
        settled = true;
      }
    }
    if (settled) writeQuietly(manifestFile, JSON.stringify(manifest));
    return true;
  } catch {
    return false;
  }
}

/** Writes a file that only saves later runs some time: a .build/ this user cannot write is no reason to fail. */
function writeQuietly(file, data) {
  try {
    writeFileAtomically(file, data);
  } catch {
    // The next run hashes again, or compiles again.
  }
}

/** Builds the entry's bundle unless it is up to date; returns its path. */
async function build(entry) {
  const outfile = bundleOf(entry);
  if (upToDate(entry)) return outfile;
  // Built under a name of its own, then renamed into place: runs in parallel never read a half-written bundle.
  const partial = `${outfile}.${process.pid}.tmp`;
  const started = Date.now();
  // Loaded only when a build is needed: an up-to-date run skips esbuild altogether.
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [resolve(entry)],
    outfile: partial,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // import() becomes require(): a vm.Script, which runBundle starts the bundle from, cannot import on Node 20.
    supported: { "dynamic-import": false },
    plugins: [cdktfZipHelperRunsItsOwnFile],
    logLevel: "warning",
    metafile: true,
  });
  const files = [...Object.keys(result.metafile.inputs).map(fromRoot), ...BUILD_SETTINGS];
  const inputs = Object.fromEntries(files.map((file) => [file, inputRecord(join(root, file))]));
  renameSync(partial, outfile);
  // A file saved while esbuild read it may not be what the digest says was built: then no manifest, and the next
  // run builds again.
  const finished = Date.now();
  const savedDuringBuild = files.some((file) => {
    const mtimeMs = statSync(join(root, file), { throwIfNoEntry: false })?.mtimeMs;
    return mtimeMs !== undefined && mtimeMs >= started && mtimeMs <= finished;
  });
  const manifestFile = `${outfile}.inputs.json`;
  if (savedDuringBuild) rmSync(manifestFile, { force: true });
  else writeFileAtomically(manifestFile, JSON.stringify({ entry: fromRoot(entry), inputs }));
  return outfile;
}

function writeFileAtomically(file, data) {
  writeFileSync(`${file}.${process.pid}.tmp`, data);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/**
 * Runs a bundle as `require` would, started from V8's code cache for it (`NAME.js.<digest>.cache` beside it): a start
 * then skips compiling what the last run compiled, about a third of the app's start. The cache is named after the
 * bundle's content because V8 checks only a source's length and its own version against a cache; one it refuses
 * (another Node) or that is missing is written when the process exits, and replaces the caches of older bundles.
 */
function runBundle(outfile) {
  const source = readFileSync(outfile, "utf8");
  const prefix = `${basename(outfile)}.`;
  const cacheFile = `${outfile}.${digest(source).slice(0, 16)}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet, or another run is replacing it: this start compiles, and writes one.
  }
  const script = new Script(Module.wrap(source), { filename: outfile, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    process.once("exit", () => {
      writeQuietly(cacheFile, script.createCachedData());
      // Caches of older bundles; never this one, which a run started meanwhile may be reading.
      try {
        for (const name of readdirSync(dirname(outfile)))
          if (name.startsWith(prefix) && name.endsWith(".cache") && join(dirname(outfile), name) !== cacheFile)
            rmSync(join(dirname(outfile), name), { force: true });
      } catch {
        // Left for the next run to remove.
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
  const outfile = await build(first);
  process.argv = [process.argv[0], outfile, ...rest];
  runBundle(outfile);
}
