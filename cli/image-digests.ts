/**
 * What each image tag the lab pulls resolved to, so a user can pin what worked: a tag (`nginx:1.27-alpine`) may point
 * at other bytes tomorrow, a digest never does. After a deploy each engine is asked for the digest its copy of each
 * tag came with (`RepoDigests`); `npm run deploy` says so of a tag the first time it sees it resolved, or resolved to
 * other bytes than last time, and outputs.json keeps every one under `imageDigests`.
 */
import type { Lab } from "../topology";
import type { LabEngine } from "../runtime/lab-engines";

/** The lab's registry images, by their field under `images`. */
export function pulledImages(lab: Lab): Record<string, string> {
  return { ...lab.topology.images };
}

/** A reference's repository, without its tag or digest (`registry:5000/team/nginx:1.27` is `registry:5000/team/nginx`). */
export function repositoryOf(reference: string): string {
  const withoutDigest = reference.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** Docker Hub's short names as RepoDigests writes them: `library/` and the registry host dropped. */
const shortName = (repository: string) => repository.replace(/^(docker\.io\/)?(library\/)?/, "");

export interface ImageDigests {
  /** `reference` -> `repository@sha256:...`, for every tag some engine knows a digest of. */
  readonly digests: Record<string, string>;
  /** What to tell the user: each tag first seen resolved, or resolved to other bytes than `previous` says. */
  readonly lines: string[];
}

/** Asks each engine what its copy of each pulled tag came from; never fails a deploy (a line says what is unknown). */
export async function imageDigests(
  lab: Lab,
  engines: readonly LabEngine[],
  previous: Readonly<Record<string, string>> = {},
): Promise<ImageDigests> {
  const digests: Record<string, string> = {};
  const lines: string[] = [];
  for (const [field, reference] of Object.entries(pulledImages(lab))) {
    // A reference that carries its digest is pinned already.
    if (reference.includes("@")) continue;
    const repository = shortName(repositoryOf(reference));
    const seen = new Set<string>();
    for (const engine of engines) {
      const answer = await engine.docker.runAsync(
        ["image", "inspect", "--format", "{{json .RepoDigests}}", reference],
        30_000,
      );
      let repoDigests: unknown = [];
      try {
        repoDigests = answer.status === 0 ? JSON.parse(answer.stdout) : [];
      } catch {
        // Not Docker's answer: nothing known from this engine.
      }
      for (const entry of Array.isArray(repoDigests) ? repoDigests : [])
        if (typeof entry === "string" && shortName(entry.split("@")[0]) === repository) seen.add(entry);
    }
    if (seen.size === 0) {
      // A base a build pulled is not kept under its tag, and a loaded image has no registry digest.
      lines.push(`images.${field} ${reference}: no digest known (not pulled into the engine's image store)`);
      continue;
    }
    const [digest, ...others] = [...seen].sort();
    digests[reference] = digest;
    if (others.length > 0)
      lines.push(
        `images.${field} ${reference} resolved to different bytes on different hosts (${[...seen].join(", ")}): pin one digest`,
      );
    else if (previous[reference] !== digest)
      lines.push(
        `images.${field} ${reference} resolved to ${digest}${previous[reference] ? ` (last deploy: ${previous[reference]})` : ""}; to keep these bytes, set images.${field} to "${reference}@${digest.split("@")[1]}"`,
      );
  }
  return { digests, lines };
}
