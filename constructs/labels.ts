import type { ContainerLabels } from "@cdktf/provider-docker/lib/container";
import type { Lab } from "../topology";

/** The label every Docker object of a lab carries, whose value is the lab's name; `verify` finds containers by it. */
export const LAB_LABEL = "consul-lab.lab";

/** The labels of a lab object: the lab, and optionally its node and the part it plays there. */
export function labLabels(lab: Lab, of: { readonly node?: string; readonly role?: string } = {}): ContainerLabels[] {
  return [
    { label: LAB_LABEL, value: lab.topology.name },
    ...(of.node === undefined ? [] : [{ label: "consul-lab.node", value: of.node }]),
    ...(of.role === undefined ? [] : [{ label: "consul-lab.role", value: of.role }]),
  ];
}
