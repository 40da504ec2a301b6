/**
 * Names Consul compares without case, and the rules that follow: two names the topology tells apart by case alone
 * are one name to Consul. Each entry says where Consul does it (hashicorp/consul at v1.20.x). Validation compares
 * every such name as Consul does (checkConsulCase below, run beside the other cross-field rules).
 */
import type { Report } from "./problems";
import type { Topology } from "./schema";

/** What Consul compares in lower case, and where. */
export const CONSUL_CASE_RULES = {
  serviceName:
    "service names are indexed in lower case (agent/consul/state/query.go indexFromServiceNameAsString, the catalog's service index)",
  serviceId:
    "a node's service IDs are indexed in lower case (agent/consul/state/catalog_schema.go, the services table's id index over node and service ID)",
  tag: "tag filters compare in lower case (agent/consul/state/catalog.go serviceTagFilter: strings.ToLower on both sides)",
} as const;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function checkConsulCase(topology: Topology, report: Report): void {
  const { site, services, externalServices } = topology;
  // Services with one name that differ only in case: one service to Consul, two to the lab.
  const firstByName = new Map<string, { index: number; name: string }>();
  services.forEach((service, index) => {
    const key = service.name.toLowerCase();
    const first = firstByName.get(key);
    if (!first) firstByName.set(key, { index, name: service.name });
    else if (first.name !== service.name)
      report(
        `services[${index}].name`,
        `"${service.name}" is services[${first.index}]'s "${first.name}" in another case, one service to Consul (${CONSUL_CASE_RULES.serviceName}); write it the same way`,
      );
  });
  // The site's roles and Consul's own service, in another case.
  const owned: [string, string][] = [
    ["consul", "the service every Consul server registers itself as"],
    [site.service, "site.service"],
    [site.loadBalancerService, "site.loadBalancerService"],
    [site.entryService, "site.entryService"],
  ];
  const misCased = (name: string) => owned.find(([ownName]) => same(ownName, name) && ownName !== name);
  services.forEach((service, index) => {
    const owner = misCased(service.name);
    if (owner)
      report(
        `services[${index}].name`,
        `"${service.name}" is "${owner[0]}" (${owner[1]}) in another case, the same service to Consul (${CONSUL_CASE_RULES.serviceName}); write it "${owner[0]}", or choose another name`,
      );
  });
  externalServices.forEach((external, index) => {
    const owner = misCased(external.service);
    if (owner)
      report(
        `externalServices[${index}].service`,
        `"${external.service}" is "${owner[0]}" (${owner[1]}) in another case, the same service to Consul (${CONSUL_CASE_RULES.serviceName}); choose another name`,
      );
  });
  // The app and sorry tags tell the site's instances apart in a tag filter.
  if (site.appTag !== site.sorryTag && same(site.appTag, site.sorryTag))
    report(
      "site.sorryTag",
      `"${site.sorryTag}" is site.appTag "${site.appTag}" in another case, and ${CONSUL_CASE_RULES.tag}: the sorry server would be taken for an app server; choose another tag`,
    );
  services.forEach((service, index) => {
    const seen = new Map<string, string>();
    service.tags.forEach((tag, tagIndex) => {
      const earlier = seen.get(tag.toLowerCase());
      if (earlier !== undefined && earlier !== tag)
        report(
          `services[${index}].tags[${tagIndex}]`,
          `"${tag}" is the tag "${earlier}" in another case (${CONSUL_CASE_RULES.tag}); keep one`,
        );
      seen.set(tag.toLowerCase(), tag);
    });
  });
  // Two instance IDs on one node that differ only in case are one registration.
  const ids = new Map<string, { index: number; id: string }>();
  services.forEach((service, index) => {
    const id = service.id ?? service.name;
    for (const node of service.nodes) {
      const key = `${node}\u0000${id.toLowerCase()}`;
      const first = ids.get(key);
      if (!first) ids.set(key, { index, id });
      else if (first.id !== id)
        report(
          `services[${index}].id`,
          `"${id}" on node "${node}" is services[${first.index}]'s ID "${first.id}" in another case (${CONSUL_CASE_RULES.serviceId}); set a distinct "id"`,
        );
    }
  });
}
