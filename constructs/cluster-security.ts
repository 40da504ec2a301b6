import type { Lab } from "../topology";

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
  /** The lab's TLS material: every agent trusts the CA; each server has its own certificate and key. */
  readonly tls: {
    readonly caCert: string;
    /** The CA certificate's file, relative to the stack's directory, for scripts Terraform runs there. */
    readonly caFile: string;
    serverCert(node: string): string;
    serverKey(node: string): string;
  };
  /**
   * Where deploy-time scripts read the secrets themselves, so that no sensitive value is in their own configuration:
   * the stack's variables file (relative to the stack's directory, their working directory), and the names of the
   * management token and the role tokens in it.
   */
  readonly variablesFile: {
    readonly path: string;
    readonly managementToken: string;
    readonly roleTokens: string;
  };
}

/**
 * How the cluster is secured: "secure" always carries its secrets, "none" (the article's open Consul) has none, so a
 * secure cluster without secrets does not compile.
 */
export type ClusterSecurity = { readonly mode: "secure"; readonly secrets: SecretRefs } | { readonly mode: "none" };

/** The open cluster of the article: no gossip key, no ACLs. */
export const OPEN_CLUSTER: ClusterSecurity = { mode: "none" };

/** The cluster's security for a lab: its secrets when the topology is "secure", after `declare` provides them. */
export function clusterSecurity(lab: Lab, declare: () => SecretRefs): ClusterSecurity {
  return lab.secure ? { mode: "secure", secrets: declare() } : OPEN_CLUSTER;
}

/** Refuses a security that contradicts the topology's, so a lab and its constructs cannot disagree about it. */
export function checkSecurityMatches(lab: Lab, security: ClusterSecurity, what: string): void {
  if (lab.secure !== (security.mode === "secure")) {
    throw new Error(
      `${what} was given security "${security.mode}" but the topology says "${lab.topology.security}"; build it with clusterSecurity(lab, ...)`,
    );
  }
}
