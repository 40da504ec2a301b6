import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { Construct } from "constructs";
import { ConsulObjects } from "../constructs";
import { TERRAFORM_ROLE } from "../renderers";
import type { Lab } from "../topology";
import type { ClusterStack } from "./cluster-stack";
import { LabStack, LabStackOptions } from "./lab-stack";
import { declareCaCert, declareRoleTokens, roleTokenOf } from "./secret-variables";

export interface ConsulStackProps extends LabStackOptions {
  readonly lab: Lab;
  /** The cluster this stack configures through its published HTTP API; deployed first. */
  readonly cluster: ClusterStack;
}

/** What lives inside the running Consul: external services, autopilot, the site's prepared query, Terraform-owned KV. */
export class ConsulStack extends LabStack {
  /** Everything the stack creates inside Consul. */
  readonly objects: ConsulObjects;

  constructor(scope: Construct, id: string, props: ConsulStackProps) {
    super(scope, id, props);
    const { lab, cluster } = props;
    // The topology knows the published address, so it is a literal: a reference into the cluster's state would
    // need that state to exist before this stack could even be planned, and the Docker provider re-sorts `ports`.
    new ConsulProvider(this, "consul", {
      address: lab.publishedHttpAddress,
      scheme: lab.apiScheme,
      datacenter: lab.topology.datacenter,
      // Its own token: exactly what this stack manages (see the "terraform" ACL role), not the management token; and
      // the lab's CA, the one it trusts for the HTTPS API.
      ...(lab.secure
        ? { token: roleTokenOf(declareRoleTokens(this), TERRAFORM_ROLE), caPem: declareCaCert(this).stringValue }
        : {}),
    });
    // Nothing here references the cluster stack, so the order is said explicitly (cdktf.out's manifest).
    this.addDependency(cluster);
    // The id stays "catalog", so every resource keeps its Terraform address.
    this.objects = new ConsulObjects(this, "catalog", { lab });
  }
}
