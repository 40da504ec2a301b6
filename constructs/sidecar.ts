import type { ContainerConfig } from "@cdktf/provider-docker/lib/container";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import type { Lab, WorkloadKind } from "../topology";
import { labContainerBase, type LabContainerBase } from "./lab-container";
import type { NodeNamespace } from "./node-namespace";
import { NGINX_MAIN_CONF, renderNginxMainConf } from "../renderers";
import { terraformLiteral } from "./terraform-literal";

/** What a container beside the agent does: its workload, or the node's DNS forwarder. */
export type SidecarRole = WorkloadKind | "dns";

/** What every container beside a node's agent is built from. */
export interface SidecarProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The node's namespace, which the sidecar joins: the agent's checks on 127.0.0.1 reach it, and it the agent. */
  readonly namespace: NodeNamespace;
  /** The image ID to run. */
  readonly image: string;
  /**
   * What must exist first (a load balancer waits for the ACL bootstrap, which creates consul-template's token).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * What every sidecar shares: it joins the node's namespace, and has every lab container's settings (lab-container.ts).
 */
export function sidecarContainerConfig(
  scope: Construct,
  props: SidecarProps,
  role: SidecarRole,
): LabContainerBase & Pick<ContainerConfig, "name" | "image" | "networkMode" | "dependsOn"> {
  const { lab, nodeName } = props;
  return {
    name: lab.dockerName(nodeName, role),
    image: props.image,
    // Joined by ID, which the provider reads back as written; a replaced namespace replaces its sidecars too.
    networkMode: props.namespace.joinMode,
    ...labContainerBase(scope, lab, nodeName, role),
    dependsOn: props.dependsOn,
  };
}

/** The main nginx.conf every nginx of the lab runs with (renderers/nginx-main-conf.ts), as an upload. */
export function nginxMainConfUpload(): { file: string; content: string } {
  return { file: NGINX_MAIN_CONF, content: terraformLiteral(renderNginxMainConf()) };
}
