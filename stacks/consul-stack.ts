import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ConsulCatalog } from "../constructs";
import { TERRAFORM_ROLE } from "../renderers";
import type { Lab } from "../topology";
import type { ClusterStack } from "./cluster-stack";
import { declareRoleTokens, roleTokenOf } from "./secret-variables";
import { useLocalState } from "./state-backend";

export interface ConsulStackProps {
  readonly lab: Lab;
  /** The cluster whose published HTTP API this stack configures; deployed first. */
  readonly cluster: ClusterStack;
}

/** What lives inside the running Consul: external services, autopilot, the site's prepared query, Terraform-owned KV. */
export class ConsulStack extends TerraformStack {
  readonly catalog: ConsulCatalog;

  constructor(scope: Construct, id: string, props: ConsulStackProps) {
    super(scope, id);
    const { lab, cluster } = props;
    useLocalState(this, id);
    // The address is a reference into the cluster stack's state (cdktf wires it through terraform_remote_state),
    // so the Consul provider talks to what the cluster actually published, and the cluster deploys first.
    new ConsulProvider(this, "consul", {
      address: cluster.consulHttpAddress,
      scheme: "http",
      datacenter: lab.topology.datacenter,
      // Its own token: exactly what this stack manages (see the "terraform" ACL role), not the management token.
      ...(lab.topology.security === "secure" ? { token: roleTokenOf(declareRoleTokens(this), TERRAFORM_ROLE) } : {}),
    });
    this.addDependency(cluster);
    this.catalog = new ConsulCatalog(this, "catalog", { lab });
  }
}
