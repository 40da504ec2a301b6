import type { ContainerConfig } from "@cdktf/provider-docker/lib/container";
import type { Lab, WorkloadKind } from "../topology";
import type { ConsulAgent } from "./consul-agent";

/** What a container beside the agent does: its workload, or the node's DNS forwarder. */
export type SidecarRole = WorkloadKind | "dns";

/**
 * What every container beside the agent shares: it joins its agent's network namespace (so the agent's checks on
 * 127.0.0.1 reach it, and it reaches the agent on 127.0.0.1), restarts with Docker, and is labelled by node and kind.
 */
export function workloadContainerConfig(
  lab: Lab,
  nodeName: string,
  role: SidecarRole,
  agent: ConsulAgent,
): Pick<ContainerConfig, "name" | "networkMode" | "restart" | "mustRun" | "labels"> {
  return {
    name: lab.dockerName(nodeName, role),
    // Joined by ID: the provider reads the mode back as `container:<id>`, so a name would show a diff on every plan,
    // and a replaced agent (new namespace) must replace its workload too.
    networkMode: agent.namespaceMode,
    restart: "unless-stopped",
    mustRun: true,
    labels: [
      { label: "consul-lab.lab", value: lab.topology.name },
      { label: "consul-lab.node", value: nodeName },
      { label: "consul-lab.role", value: role },
    ],
  };
}
