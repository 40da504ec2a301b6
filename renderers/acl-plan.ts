/**
 * What the ACL bootstrap applies to a cluster: every role's policy, a token per role, and no policy on the anonymous
 * token (an unauthenticated request reads and writes nothing; DNS answers with its own token). Token secrets are not
 * in the plan: they reach the bootstrap as a sensitive Terraform variable.
 */
import { derivedUuid } from "./derived-uuid";
import type { Lab } from "../topology";
import { aclRoles, ANONYMOUS_TOKEN_ACCESSOR } from "./acl-policies";

export interface AclPlan {
  readonly policies: readonly { readonly name: string; readonly description: string; readonly rules: string }[];
  readonly tokens: readonly {
    /** Key of the token's secret in the `role_tokens` variable. */
    readonly role: string;
    readonly accessorId: string;
    readonly description: string;
    readonly policies: readonly string[];
  }[];
  /**
   * How every token of this lab's plan begins its description: a token so described that the plan no longer lists
   * (a removed node's, a dropped role's) is deleted, so it stops being valid.
   */
  readonly ownedTokenDescriptionPrefix: string;
  /**
   * The key every role token's accessor ID is derived with (roleAccessorId: HMAC-SHA256 of `accessor:<role>`): a token
   * is the lab's only when its accessor ID is the one derived for the role its description names, so an operator's
   * token described like the lab's is never deleted. Public, as accessor IDs are.
   */
  readonly accessorIdKey: string;
  /** Consul's anonymous token (fixed accessor ID in every datacenter) and its policies: none. */
  readonly anonymousToken: { readonly accessorId: string; readonly policies: readonly string[] };
}

/** A role token's accessor ID: public, and stable for a lab name and role, so the bootstrap updates instead of duplicating. */
export function roleAccessorId(lab: Lab, role: string): string {
  return derivedUuid(accessorIdKey(lab), `accessor:${role}`);
}

const accessorIdKey = (lab: Lab) => `consul-lab/${lab.topology.name}`;

/** The plan for a lab: a policy and a token per role, and an anonymous token with no policy. */
export function renderAclPlan(lab: Lab): AclPlan {
  const roles = aclRoles(lab);
  const owned = `consul-lab ${lab.topology.name}/`;
  return {
    policies: roles.map(({ name, description, rules }) => ({ name, description, rules })),
    tokens: roles.map((role) => ({
      role: role.name,
      accessorId: roleAccessorId(lab, role.name),
      description: `${owned}${role.name}: ${role.description}`,
      policies: [role.name],
    })),
    ownedTokenDescriptionPrefix: owned,
    accessorIdKey: accessorIdKey(lab),
    anonymousToken: { accessorId: ANONYMOUS_TOKEN_ACCESSOR, policies: [] },
  };
}
