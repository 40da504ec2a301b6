import { readFileSync } from "node:fs";
import { join } from "node:path";

// Both constructs/ (tests) and .build/ (the bundled app) sit one level below the project root.
const ASSETS_DIR = join(__dirname, "..", "assets");

/** The text of a file under assets/. */
export function assetText(relativePath: string): string {
  return readFileSync(join(ASSETS_DIR, relativePath), "utf8");
}
