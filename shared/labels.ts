import type { Lab } from "../topology";

/** One label of a Docker object, in the Docker provider's shape. */
export interface LabLabel {
  readonly label: string;
  readonly value: string;
}

/** The label every Docker object of a lab carries, whose value is the lab's name; `verify` finds containers by it. */
export const LAB_LABEL = "consul-lab.lab";
/** The node a container belongs to. */
export const NODE_LABEL = "consul-lab.node";
/** The part a container plays on its node: `netns`, `agent`, `dns`, or the workload's kind. */
export const ROLE_LABEL = "consul-lab.role";
/** The role of a node's namespace container, which every other container of the node joins. */
export const NAMESPACE_ROLE = "netns";

/** The labels of a lab object: the lab, and optionally its node and the part it plays there. */
export function labLabels(lab: Lab, of: { readonly node?: string; readonly role?: string } = {}): LabLabel[] {
  return [
    { label: LAB_LABEL, value: lab.topology.name },
    ...(of.node === undefined ? [] : [{ label: NODE_LABEL, value: of.node }]),
    ...(of.role === undefined ? [] : [{ label: ROLE_LABEL, value: of.role }]),
  ];
}
