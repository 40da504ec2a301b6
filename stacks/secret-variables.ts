import { Fn, TerraformStack, TerraformVariable, Token } from "cdktf";
import type { SecretRefs } from "../constructs/cluster-security";
import { fromStackDir } from "../shared/project-paths";
import { CDKTF_PLAN_LINK, STACK_VARIABLES_LINK, stackPlanFile, stackVariablesFile } from "../secrets/stack-variables";
import { SECRET_VARIABLES } from "../secrets/variable-names";
import { CA_CERT_FILE, DEFAULT_TLS_DIR } from "../secrets/lab-tls";
import { addStackFile } from "../constructs/stack-files";

/**
 * Declares the secrets as sensitive variables of `stack` (at its root, so their names are exactly those in
 * SECRET_VARIABLES) and returns references to them: `${var...}` expressions, never values.
 */
export function declareSecretVariables(stack: TerraformStack): SecretRefs {
  const sensitiveString = (name: string, description: string) =>
    new TerraformVariable(stack, name, { type: "string", sensitive: true, nullable: false, description });
  const gossipKey = sensitiveString(SECRET_VARIABLES.gossipKey, "Consul gossip encryption key (from the secrets file)");
  const managementToken = sensitiveString(
    SECRET_VARIABLES.managementToken,
    "Consul's initial management token (from the secrets file)",
  );
  const roleTokens = declareRoleTokens(stack);
  const serverMap = (name: string, description: string) =>
    new TerraformVariable(stack, name, { type: "map(string)", sensitive: true, nullable: false, description });
  const serverCerts = serverMap(
    SECRET_VARIABLES.tlsServerCerts,
    "Each server's TLS certificate (PEM), from .secrets/tls",
  );
  const serverKeys = serverMap(
    SECRET_VARIABLES.tlsServerKeys,
    "Each server's TLS private key (PEM), from .secrets/tls",
  );
  // Scripts run by Terraform on the deploying machine trust the lab's CA through this link (NODE_EXTRA_CA_CERTS).
  addStackFile(stack, LAB_CA_LINK, { linkTo: fromStackDir(`${DEFAULT_TLS_DIR}/${CA_CERT_FILE}`) });
  return {
    gossipKey: gossipKey.stringValue,
    managementToken: managementToken.stringValue,
    roleTokensJson: Fn.jsonencode(roleTokens.value),
    roleToken: (role) => roleTokenOf(roleTokens, role),
    tls: {
      caCert: declareCaCert(stack).stringValue,
      caFile: LAB_CA_LINK,
      serverCert: (node) => Token.asString(Fn.lookup(serverCerts.value, node)),
      serverKey: (node) => Token.asString(Fn.lookup(serverKeys.value, node)),
    },
    variablesFile: {
      path: STACK_VARIABLES_LINK,
      managementToken: SECRET_VARIABLES.managementToken,
      roleTokens: SECRET_VARIABLES.roleTokens,
    },
  };
}

/** The link to the lab CA's certificate in a stack's directory, for what Terraform runs there. */
export const LAB_CA_LINK = "lab-ca.pem";

/** The lab CA's certificate, which whatever talks to the lab's HTTPS API trusts. */
export function declareCaCert(stack: TerraformStack): TerraformVariable {
  return new TerraformVariable(stack, SECRET_VARIABLES.tlsCaCert, {
    type: "string",
    nullable: false,
    description: "The lab CA's certificate (PEM), from .secrets/tls",
  });
}

/**
 * Only the role tokens, for a stack that needs no other secret. Every stack with secrets declares them, so this is
 * where its directory gets the links to its variables file and to where cdktf saves its plan (secrets/stack-variables.ts).
 */
export function declareRoleTokens(stack: TerraformStack): TerraformVariable {
  addStackFile(stack, STACK_VARIABLES_LINK, { linkTo: fromStackDir(stackVariablesFile(stack.node.id)) });
  addStackFile(stack, CDKTF_PLAN_LINK, { linkTo: fromStackDir(stackPlanFile(stack.node.id)) });
  return new TerraformVariable(stack, SECRET_VARIABLES.roleTokens, {
    type: "map(string)",
    sensitive: true,
    nullable: false,
    description: "Each role's ACL token secret, derived from the secrets file",
  });
}

/** One role's token secret, as a reference into the `role_tokens` variable. */
export function roleTokenOf(roleTokens: TerraformVariable, role: string): string {
  return Token.asString(Fn.lookup(roleTokens.value, role));
}
