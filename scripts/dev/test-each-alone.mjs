// `npm run test:alone`: every file of the fast suite run by itself, one after another, so a file that passes only
// after another one's leftovers (secrets, a synth, a state file) fails here. `.ci/run` runs it after `npm test`.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const files = readdirSync(join(root, "__tests__"))
  .filter((name) => name.endsWith(".test.ts"))
  .sort();
const failed = [];
for (const [index, file] of files.entries()) {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules", ".bin", "jest"), "--runTestsByPath", join("__tests__", file)],
    { cwd: root, encoding: "utf8", env: { ...process.env, CI: process.env.CI || "1" } },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${result.status === 0 ? "pass" : "FAIL"}  ${file} alone (${index + 1}/${files.length}, ${seconds} s)`);
  if (result.status !== 0) {
    failed.push(file);
    process.stdout.write(result.stdout.slice(-4000) + result.stderr.slice(-8000));
  }
}
console.log(
  failed.length === 0
    ? `test:alone: all ${files.length} files pass alone`
    : `test:alone: ${failed.length} of ${files.length} files fail alone: ${failed.join(", ")}`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
