/**
 * `npm run diagram [-- --out FILE]`: the effective topology as an SVG, laid out by Graphviz (compiled to WebAssembly,
 * `@viz-js/viz`; no system binary). Written beside outputs.json (`topology.svg`) unless --out names a file.
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { renderTopologySvg } from "./topology-diagram";
import { PROJECT_ROOT } from "../shared/project-paths";
import { loadLab, TopologyError } from "../topology";

async function main(args: string[]): Promise<number> {
  let out = join(PROJECT_ROOT, "topology.svg");
  for (let index = 0; index < args.length; index++) {
    if (args[index] === "--out" && args[index + 1]) out = resolve(process.env.INIT_CWD || process.cwd(), args[++index]);
    else {
      console.error(`unknown argument "${args[index]}"; npm run diagram takes --out FILE`);
      return 2;
    }
  }
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
