/**
 * The containers this checkout deployed, by their full Docker IDs, as the cluster stack's Terraform state records
 * them (`state/cluster.tfstate`, which `npm run deploy` and `cdktf deploy` both write). verify, the drill and repair
 * act on these alone: a container of another project that carries the lab's labels is left alone, and said to be.
 * Before the first deploy (no state), the labels alone decide, as they did before.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, STATE_DIR } from "../shared/project-paths";

/** The full IDs of the containers deployed, or undefined when no state records them. */
export type DeployedContainers = ReadonlySet<string> | undefined;

/** Where the cluster stack keeps its state (stacks/state-backend.ts). */
export const CLUSTER_STATE_FILE = join(PROJECT_ROOT, STATE_DIR, "cluster.tfstate");

/** A full Docker container ID: 64 lowercase hex digits. */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** Terraform's state (format 4), as far as this reads it. */
interface TerraformState {
  readonly resources?: readonly {
    readonly mode?: string;
    readonly type?: string;
    readonly instances?: readonly { readonly attributes?: { readonly id?: unknown } }[];
  }[];
}

export function deployedContainerIds(file = CLUSTER_STATE_FILE): DeployedContainers {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as TerraformState;
    const ids = (state.resources ?? [])
      .filter((resource) => resource.mode === "managed" && resource.type === "docker_container")
      .flatMap((resource) => resource.instances ?? [])
      .map((instance) => instance.attributes?.id)
      .filter((id): id is string => typeof id === "string" && CONTAINER_ID.test(id));
    return ids.length > 0 ? new Set(ids) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a container, by its full or short ID, is one the checkout deployed (any, when none is recorded). */
export function isDeployed(deployed: DeployedContainers, id: string): boolean {
  if (deployed === undefined) return true;
  if (!id) return false;
  for (const full of deployed) if (full.startsWith(id)) return true;
  return false;
}
