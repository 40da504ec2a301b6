import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PROJECT_ROOT } from "../../shared/project-paths";
import type { RunContext } from "../context";
import { renderTopologySvg } from "../topology-diagram";

/**
 * `npm run diagram [-- --out FILE]`: the effective topology as an SVG, laid out by Graphviz (compiled to WebAssembly,
 * `@viz-js/viz`; no system binary). Written beside outputs.json (`topology.svg`) unless --out names a file.
 */
export async function diagramCommand({ lab, env, options }: RunContext): Promise<number> {
  const named = options.get("--out");
  const out =
    typeof named === "string" ? resolve(env.INIT_CWD || process.cwd(), named) : join(PROJECT_ROOT, "topology.svg");
  const svg = await renderTopologySvg(lab);
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
