/**
 * References to the lab's secrets ("secure" mode) that constructs place into configs and environments. A stack
 * provides them as Terraform variable expressions (see stacks/secret-variables.ts), so no value is synthesized.
 */
export interface SecretRefs {
  readonly gossipKey: string;
  readonly managementToken: string;
  /** `{"<role>": "<secret ID>"}` as a JSON string, for the ACL bootstrap. */
  readonly roleTokensJson: string;
  /** One role's token secret. */
  roleToken(role: string): string;
  /**
   * The environment variables that hold the management token and the role tokens (as JSON) when Terraform runs,
   * for deploy-time scripts: they inherit Terraform's environment, so they get secrets without a sensitive value in
   * their own configuration.
   */
  readonly deployEnvironment: { readonly managementToken: string; readonly roleTokensJson: string };
}

/** The secrets a "secure" lab needs, or a clear error when a stack forgot to pass them. */
export function requireSecrets(secrets: SecretRefs | undefined, what: string): SecretRefs {
  if (!secrets)
    throw new Error(`${what} needs the lab's secrets in "secure" mode; pass \`secrets\` (see declareSecretVariables)`);
  return secrets;
}
