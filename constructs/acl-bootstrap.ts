import { DataResource, Fn } from "cdktf";
import { Construct } from "constructs";
import { createHash } from "node:crypto";
import { renderAclPlan } from "../renderers";
import { jsonFileText } from "../shared/generated-file";
import type { Lab } from "../topology";
import { type LeaderGate, trustedCa } from "./leader-gate";
import { fromStackDir } from "../shared/project-paths";
import type { SecretRefs } from "./cluster-security";
import { addStackFile } from "./stack-files";

/** The deploy-time script that applies the ACL plan, from the project root. */
export const ACL_BOOTSTRAP_SCRIPT = "scripts/deploy-time/acl-bootstrap.mjs";
/** The plan, written beside the stack's cdk.tf.json: it outgrows a process's environment (128 KiB a string) by 300 nodes. */
export const ACL_PLAN_FILE = "acl-plan.json";

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
 * The script reads the plan from a file beside the stack's JSON, checked against the digest here, and the secrets
 * from the stack's variables file (secrets/stack-variables.ts), which Terraform reads too. None is in the
 * provisioner's own configuration: Terraform hides the whole output of a provisioner whose configuration holds a
 * sensitive value, and the deploy log must show what the bootstrap did.
 */
export class AclBootstrap extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: AclBootstrapProps) {
    super(scope, id);
    const { lab, secrets } = props;
    const plan = jsonFileText(renderAclPlan(lab));
    const planSha256 = createHash("sha256").update(plan).digest("hex");
    addStackFile(this, ACL_PLAN_FILE, { text: plan });
    this.resource = new DataResource(this, "apply", {
      dependsOn: [props.after.resource],
      triggersReplace: { planSha256, roleTokens: Fn.sha256(secrets.roleTokensJson) },
      provisioners: [
        {
          type: "local-exec",
          command: `node ${fromStackDir(ACL_BOOTSTRAP_SCRIPT)}`,
          environment: {
            CONSUL_HTTP_ADDR: lab.publishedApiUrl,
            ...trustedCa(secrets.tls.caFile),
            CONSUL_LAB_ACL_PLAN_FILE: ACL_PLAN_FILE,
            CONSUL_LAB_ACL_PLAN_SHA256: planSha256,
            CONSUL_LAB_SECRET_VARIABLES_FILE: secrets.variablesFile.path,
            CONSUL_LAB_MANAGEMENT_TOKEN_VARIABLE: secrets.variablesFile.managementToken,
            CONSUL_LAB_ROLE_TOKENS_VARIABLE: secrets.variablesFile.roleTokens,
          },
        },
      ],
    });
  }
}
