import { DataResource, Fn } from "cdktf";
import { Construct } from "constructs";
import { renderAclPlan } from "../renderers";
import type { Lab } from "../topology";
import type { LeaderGate } from "./leader-gate";
import { fromStackDir } from "./project-paths";
import type { SecretRefs } from "./cluster-security";
import { terraformLiteral } from "./terraform-literal";

/** The deploy-time script that applies the ACL plan, from the project root. */
export const ACL_BOOTSTRAP_SCRIPT = "scripts/deploy-time/acl-bootstrap.mjs";

export interface AclBootstrapProps {
  readonly lab: Lab;
  readonly secrets: SecretRefs;
  /** The gate that completes once the cluster has a leader; the bootstrap runs after it. */
  readonly after: LeaderGate;
}

/**
 * Applies the lab's ACL plan (policies, a token per role, the DNS policy on the anonymous token) to the running
 * cluster with the management token, through scripts/deploy-time/acl-bootstrap.mjs on the deploying machine. Consul's
 * Terraform provider cannot create a token with a chosen secret ID, and every agent needs its token in its config
 * before the Consul stack could run, so this step belongs to the cluster. It runs again when the plan or a secret
 * changes.
 *
 * The script reads the secrets from the TF_VAR_* variables `npm run deploy` gives Terraform, which Terraform passes on
 * to the provisioner's process. None is in the provisioner's own configuration: Terraform hides the whole output of a
 * provisioner whose configuration holds a sensitive value, and the deploy log must show what the bootstrap did.
 */
export class AclBootstrap extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: AclBootstrapProps) {
    super(scope, id);
    const { lab, secrets } = props;
    const plan = terraformLiteral(JSON.stringify(renderAclPlan(lab)));
    this.resource = new DataResource(this, "apply", {
      dependsOn: [props.after.resource],
      triggersReplace: { plan, roleTokens: Fn.sha256(secrets.roleTokensJson) },
      provisioners: [
        {
          type: "local-exec",
          command: `node ${fromStackDir(ACL_BOOTSTRAP_SCRIPT)}`,
          environment: {
            CONSUL_HTTP_ADDR: lab.publishedHttpAddress,
            CONSUL_LAB_ACL_PLAN: plan,
            CONSUL_LAB_MANAGEMENT_TOKEN_ENV: secrets.deployEnvironment.managementToken,
            CONSUL_LAB_ROLE_TOKENS_ENV: secrets.deployEnvironment.roleTokensJson,
          },
        },
      ],
    });
  }
}
