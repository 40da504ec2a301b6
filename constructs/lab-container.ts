import type { ContainerConfig } from "@cdktf/provider-docker/lib/container";
import type { TerraformResource } from "cdktf";
import type { Lab } from "../topology";
import type { Construct } from "constructs";
import { containerHardening, type HardenedRole, memoryLimitTrigger } from "./container-hardening";
import { engineAwareLifecycle } from "./engine-read-back";
import { labLabels } from "../shared/labels";

/** The settings every container of the lab takes from labContainerBase. */
export type LabContainerBase = Pick<
  ContainerConfig,
  | "restart"
  | "mustRun"
  | "labels"
  | "lifecycle"
  | "capabilities"
  | "securityOpts"
  | "readOnly"
  | "memory"
  | "memorySwap"
>;

/**
 * What every container of a node shares, whatever it runs: Docker restarts it, Terraform leaves it alone when someone
 * stopped it, it is labelled by lab, node and role, what the engine changes on its own never replaces it, and it keeps
 * only the privileges its role needs (container-hardening.ts).
 */
export function labContainerBase(
  scope: Construct,
  lab: Lab,
  nodeName: string,
  role: HardenedRole,
  replaceWhen: readonly TerraformResource[] = [],
): LabContainerBase {
  return {
    ...containerHardening(lab, role),
    // Brings it back after a crash, a daemon restart or a reboot; what that cannot heal, `npm run repair` does.
    restart: "unless-stopped",
    // Not true: with must_run, any refresh (a plan, a diff) deletes a container someone stopped on purpose, as the
    // drill and docs/site-and-dns.md's experiments do.
    mustRun: false,
    labels: labLabels(lab, { node: nodeName, role }),
    // A new memory limit replaces the container (the engine's read-back of memory is ignored; container-hardening.ts).
    lifecycle: engineAwareLifecycle([...replaceWhen, memoryLimitTrigger(scope, lab, role)]),
  };
}
