import { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { labLabels } from "../shared/labels";
import { LAB_BRIDGE_OPTIONS } from "../shared/lab-contract";

export interface LabNetworkProps {
  readonly lab: Lab;
}

/**
 * The network every node sits on, with the topology's subnet and a gateway that leaves node addresses free: a bridge
 * on one host; over several hosts a Swarm overlay that standalone containers may attach to, created through a
 * manager (the caller sets its provider). Not a Swarm service's network: services get virtual IPs that confuse
 * Consul's address detection (consul#8436, moby#29022), and they cannot share a network namespace.
 */
export class LabNetwork extends Construct {
  readonly network: Network;
  /** The Docker network's name, for containers to attach to. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: LabNetworkProps) {
    super(scope, id);
    const { lab } = props;
    this.network = new Network(this, "network", {
      name: lab.topology.name,
      ...(lab.multiHost
        ? { driver: "overlay", attachable: true }
        : { driver: "bridge", options: { ...LAB_BRIDGE_OPTIONS } }),
      // Over several hosts, Swarm's own addresses come from a range no node's static address is in.
      ipamConfig: [
        {
          subnet: lab.topology.network.subnet,
          gateway: lab.gateway,
          ...(lab.swarmAddressRange ? { ipRange: lab.swarmAddressRange } : {}),
        },
      ],
      labels: labLabels(lab),
    });
    this.name = this.network.name;
  }
}
