/**
 * What the ACL bootstrap applies to a fresh cluster: every role's policy, a token per role, and the DNS policy on the
 * anonymous token. Token secrets are not in the plan: they reach the bootstrap as a sensitive Terraform variable.
 */
import { derivedUuid } from "./derived-uuid";
import type { Lab } from "../topology";
import { aclRoles, ANONYMOUS_TOKEN_ACCESSOR, dnsPolicy } from "./acl-policies";

export interface AclPlan {
  readonly policies: readonly { readonly name: string; readonly description: string; readonly rules: string }[];
  readonly tokens: readonly {
    /** Key of the token's secret in the `role_tokens` variable. */
    readonly role: string;
    readonly accessorId: string;
    readonly description: string;
    readonly policies: readonly string[];
  }[];
  /** Consul's anonymous token (fixed accessor ID in every datacenter) and the policies DNS answers with. */
  readonly anonymousToken: { readonly accessorId: string; readonly policies: readonly string[] };
}

/** A role token's accessor ID: public, and stable for a lab name and role, so the bootstrap updates instead of duplicating. */
export function roleAccessorId(lab: Lab, role: string): string {
  return derivedUuid(`consul-lab/${lab.topology.name}`, `accessor:${role}`);
}

/** The plan for a lab: a policy and a token per role, and the DNS policy for the anonymous token. */
export function renderAclPlan(lab: Lab): AclPlan {
  const roles = aclRoles(lab);
  const dns = dnsPolicy();
  return {
    policies: [...roles, dns].map(({ name, description, rules }) => ({ name, description, rules })),
    tokens: roles.map((role) => ({
      role: role.name,
      accessorId: roleAccessorId(lab, role.name),
      description: `consul-lab ${role.name}: ${role.description}`,
      policies: [role.name],
    })),
    anonymousToken: { accessorId: ANONYMOUS_TOKEN_ACCESSOR, policies: [dns.name] },
  };
}
