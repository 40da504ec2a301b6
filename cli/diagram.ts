/**
 * `npm run diagram [-- --out FILE]`: the effective topology as an SVG, laid out by Graphviz (compiled to WebAssembly,
 * `@viz-js/viz`; no system binary). Written beside outputs.json (`topology.svg`) unless --out names a file.
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { renderTopologySvg } from "./topology-diagram";
import { PROJECT_ROOT } from "../shared/project-paths";
import { loadLab, TopologyError } from "../topology";
import { commandLineOrExit } from "./usage";

async function main(args: string[]): Promise<number> {
  const given = commandLineOrExit("diagram", args);
  if (given === undefined) return process.exitCode === undefined ? 0 : Number(process.exitCode);
  const named = given.get("--out");
  const out =
    typeof named === "string"
      ? resolve(process.env.INIT_CWD || process.cwd(), named)
      : join(PROJECT_ROOT, "topology.svg");
  let svg: string;
  try {
    svg = await renderTopologySvg(loadLab());
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    console.error(error.message);
    return 1;
  }
  try {
    writeFileSync(out, svg);
  } catch (error) {
    // A folder that does not exist, a directory named as the file, no permission: one line with the cause.
    const { code } = error as NodeJS.ErrnoException;
    const why =
      code === "ENOENT"
        ? `its folder ${dirname(out)} does not exist`
        : code === "EISDIR"
          ? "it is a directory; name a file, such as lab.svg"
          : (error as Error).message;
    console.error(`consul-lab: cannot write the diagram to ${out}: ${why}`);
    return 1;
  }
  console.log(`diagram: wrote ${out}`);
  return 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
