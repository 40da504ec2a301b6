import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// Both constructs/ (tests) and .build/ (the bundled app) sit one level below the project root.
const ASSETS_DIR = join(__dirname, "..", "assets");

/** The text of a file under assets/. */
export function assetText(relativePath: string): string {
  return readFileSync(join(ASSETS_DIR, relativePath), "utf8");
}

/**
 * An assets/ directory as Terraform reaches it from the directory it runs in (`cdktf.out/stacks/<stack>`),
 * so no absolute path of this checkout lands in the synthesized JSON.
 */
export function assetPathFromStack(relativePath: string): string {
  return `../../../assets/${relativePath}`;
}

/** A short, stable digest of some assets and inputs: it names built images, so a change rebuilds them. */
export function contentDigest(assetFiles: readonly string[], inputs: Readonly<Record<string, string>>): string {
  const hash = createHash("sha256");
  for (const file of assetFiles) hash.update(file).update("\0").update(assetText(file)).update("\0");
  for (const [key, value] of Object.entries(inputs).sort()) hash.update(key).update("=").update(value).update("\0");
  return hash.digest("hex").slice(0, 12);
}
