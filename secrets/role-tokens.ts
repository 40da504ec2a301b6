import { renderAclPlan } from "../renderers/acl-plan";
import type { Lab } from "../topology";
import { LabSecrets, roleTokenSecret } from "./secrets-file";

/** Every role token's secret ID, by role, as the `role_tokens` Terraform variable expects it. */
export function roleTokenSecrets(lab: Lab, secrets: LabSecrets): Record<string, string> {
  return Object.fromEntries(
    renderAclPlan(lab).tokens.map((token) => [token.role, roleTokenSecret(secrets, token.role)]),
  );
}
