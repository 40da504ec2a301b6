import { DataResource, Fn } from "cdktf";
import { Construct } from "constructs";
import { renderAclPlan } from "../renderers";
import type { Lab } from "../topology";
import type { ConsulAgent } from "./consul-agent";
import type { SecretRefs } from "./secret-refs";
import { terraformLiteral } from "./terraform-literal";

export interface AclBootstrapProps {
  readonly lab: Lab;
  readonly secrets: SecretRefs;
  /** The server agents; the bootstrap runs once they are healthy (a leader is elected). */
  readonly servers: readonly ConsulAgent[];
}

/**
 * Applies the lab's ACL plan (policies, a token per role, the DNS policy on the anonymous token) to the running
 * cluster with the management token, through scripts/deploy-time/acl-bootstrap.mjs on the deploying machine. Consul's Terraform
 * provider cannot create a token with a chosen secret ID, and every agent needs its token in its config before the
 * Consul stack could run, so this step belongs to the cluster. It runs again when the plan or a secret changes.
 */
export class AclBootstrap extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: AclBootstrapProps) {
    super(scope, id);
    const { lab, secrets } = props;
    const { publish } = lab.topology;
    const plan = terraformLiteral(JSON.stringify(renderAclPlan(lab)));
    this.resource = new DataResource(this, "apply", {
      dependsOn: props.servers.map((server) => server.container),
      triggersReplace: { plan, roleTokens: Fn.sha256(secrets.roleTokensJson) },
      provisioners: [
        {
          type: "local-exec",
          // Relative to the directory Terraform runs in (cdktf.out/stacks/<stack>).
          command: "node ../../../scripts/deploy-time/acl-bootstrap.mjs",
          environment: {
            CONSUL_HTTP_ADDR: `${publish.address}:${publish.httpPort}`,
            CONSUL_HTTP_TOKEN: secrets.managementToken,
            CONSUL_LAB_ACL_PLAN: plan,
            CONSUL_LAB_ROLE_TOKENS: secrets.roleTokensJson,
          },
        },
      ],
    });
  }
}
