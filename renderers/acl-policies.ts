/**
 * The ACL policy of every role in the lab, as Consul's HCL rules, each the least that lets the role work. Service
 * names, key paths and node names come from the same model as the agent configs, templates and watch.
 */
import { ANONYMOUS_WRITE_PROBE_KEY, VERIFY_ROLE } from "../shared/lab-contract";
import { maintenanceFolder, type Lab } from "../topology";

export interface AclRole {
  /** Policy name, token description key, and key of the role's secret in `role_tokens`. */
  readonly name: string;
  readonly description: string;
  readonly rules: string;
}

/** The role every agent's DNS interface answers with. */
export const DNS_ROLE = "dns";
/** The anonymous token's fixed accessor ID in every Consul datacenter. */
export const ANONYMOUS_TOKEN_ACCESSOR = "00000000-0000-0000-0000-000000000002";

export const CONSUL_TEMPLATE_ROLE = "consul-template";
export const MAINTENANCE_WATCH_ROLE = "maintenance-watch";
export const TERRAFORM_ROLE = "terraform";
export { ANONYMOUS_WRITE_PROBE_KEY, VERIFY_ROLE } from "../shared/lab-contract";

/** The ACL role of a node's agent: `node-<name>`. */
export function nodeRole(nodeName: string): string {
  return `node-${nodeName}`;
}

function rule(resource: string, name: string, policy: "read" | "write"): string {
  return `${resource} ${JSON.stringify(name)} {\n  policy = "${policy}"\n}`;
}

/** A policy's rules from a list that may be as long as the input (every KV key): passed whole, never spread. */
function rules(lines: readonly string[]): string {
  return `${lines.join("\n")}\n`;
}

/**
 * Each node's agent: register itself and the services its config file lists, read the catalog for anti-entropy.
 * Used as both the agent token and the config-file registration token.
 */
function nodeRoles(lab: Lab): AclRole[] {
  return lab.nodes.map((node) => {
    const services = [...new Set(lab.instancesOn(node.name).map((instance) => instance.service.name))];
    return {
      name: nodeRole(node.name),
      description: `Consul agent on ${node.name}: its node and the services it registers`,
      rules: rules([
        rule("node", node.name, "write"),
        rule("service_prefix", "", "read"),
        ...services.map((service) => rule("service", service, "write")),
      ]),
    };
  });
}

/** Every role the lab's processes use, each with the least-privilege rules it needs. */
export function aclRoles(lab: Lab): AclRole[] {
  const { site, kv, externalServices } = lab.topology;
  return [
    ...nodeRoles(lab),
    dnsRole(),
    {
      name: CONSUL_TEMPLATE_ROLE,
      description: "consul-template on the load balancers: the site's service health and the maintenance flag",
      rules: rules([
        rule("service", site.service, "read"),
        rule("node_prefix", "", "read"),
        rule("key_prefix", maintenanceFolder(lab.topology.site.maintenanceKey), "read"),
      ]),
    },
    {
      name: MAINTENANCE_WATCH_ROLE,
      description: "the maintenance watch and its handler: the site's service health in, the maintenance flag out",
      rules: rules([
        rule("service", site.service, "read"),
        rule("node_prefix", "", "read"),
        rule("key", site.maintenanceKey, "write"),
        // The site's instance list: only a listed app server holds the flag off.
        rule("key", lab.siteInstancesKey, "read"),
      ]),
    },
    {
      name: TERRAFORM_ROLE,
      description: "the Consul stack's provider: exactly what that stack manages",
      rules: rules(
        [
          ...externalServices.flatMap((external) => [
            rule("node", external.node, "write"),
            rule("service", external.service, "write"),
          ]),
          rule("service", site.service, "read"),
          rule("query", site.service, "write"),
          rule("key", lab.siteInstancesKey, "write"),
        ]
          .concat(
            Object.keys(kv)
              .sort()
              .map((path) => rule("key", path, "write")),
          )
          .concat('operator = "write"'),
      ),
    },
    {
      name: VERIFY_ROLE,
      description: "npm run verify and npm run repair: read what they check, and set the operator's maintenance switch",
      rules: rules([
        rule("agent_prefix", "", "read"),
        rule("node_prefix", "", "read"),
        rule("service_prefix", "", "read"),
        rule("key_prefix", maintenanceFolder(site.maintenanceKey), "read"),
        rule("key", lab.operatorMaintenanceKey, "write"),
        rule("key", ANONYMOUS_WRITE_PROBE_KEY, "write"),
        'operator = "read"',
      ]),
    },
  ];
}

/**
 * What DNS may answer: nodes, services and prepared queries, nothing else (no KV, no ACLs, no operator data). Every
 * agent answers DNS with this role's token (`acl.tokens.dns`), so the anonymous token needs, and has, no policy.
 */
function dnsRole(): AclRole {
  return {
    name: DNS_ROLE,
    description: "each agent's DNS interface (acl.tokens.dns): node, service and prepared query names",
    rules: rules([
      rule("node_prefix", "", "read"),
      rule("service_prefix", "", "read"),
      rule("query_prefix", "", "read"),
    ]),
  };
}
