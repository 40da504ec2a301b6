// Runs a TypeScript entry point: `node scripts/run-ts.mjs FILE.ts [ARGS...]`.
// esbuild only strips types (type checking is `npm run lint`'s job), so start-up stays fast; cdktf.json's
// app and the npm scripts all go through here.
import { buildSync } from "esbuild";
import { renameSync } from "node:fs";
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
// Built under a name of its own, then renamed into place: runs in parallel never read a half-written bundle.
const partial = `${outfile}.${process.pid}.tmp`;
buildSync({
  entryPoints: [resolve(entry)],
  outfile: partial,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  logLevel: "warning",
});
renameSync(partial, outfile);
process.argv = [process.argv[0], outfile, ...args];
createRequire(import.meta.url)(outfile);
