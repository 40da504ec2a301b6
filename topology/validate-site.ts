/**
 * The site's rules: its app and sorry tags, its three roles (the site's service, the load balancers', the entry's),
 * its instances, the one entry point, and one workload per node. Rules of RELATION_RULES (validate.ts).
 */
import { instanceWorkload, serviceInstances, type WorkloadKind } from "./model";
import type { Topology } from "./schema";
import type { Report } from "./problems";

/** The app and sorry tags tell the site's instances apart, so they must differ. */
export function checkSiteTags({ site }: Topology, report: Report): void {
  if (site.appTag === site.sorryTag) {
    report(
      "site.sorryTag",
      `must differ from site.appTag "${site.appTag}", or the sorry server would be taken for an app server`,
    );
  }
}

/** Each of the site's three roles names its own existing service, whose definitions agree on one port. */
export function checkSiteRoles({ site, services }: Topology, report: Report): void {
  const roles: [keyof Topology["site"], string][] = [
    ["service", "the site's app and sorry servers"],
    ["loadBalancerService", "the load balancers"],
    ["entryService", "the entry point"],
  ];
  for (const [field, what] of roles) {
    const name = site[field];
    if (!services.some((service) => service.name === name)) {
      report(`site.${field}`, `no service named "${name}" in services; add ${what} or change site.${field}`);
    }
  }
  // The roles are told apart by service name, so each needs its own.
  roles.forEach(([field], index) => {
    for (const [other] of roles.slice(index + 1)) {
      if (site[field] === site[other])
        report(
          `site.${other}`,
          `"${site[other]}" is also site.${field}; the site's roles need three different services`,
        );
    }
  });
  // A role's port is the service's port, wherever an instance runs; two definitions must agree on it. For the site's
  // service too: the instance list the load balancers admit entries by names that one port (site-instances.ts), so a
  // sorry server on another port would never serve.
  for (const field of ["service", "loadBalancerService", "entryService"] as const) {
    const ports = new Set(services.filter((service) => service.name === site[field]).map((service) => service.port));
    if (ports.size > 1)
      report(
        `site.${field}`,
        `the instances of "${site[field]}" listen on different ports (${[...ports].join(", ")}); give them one port`,
      );
  }
}

/** Every instance of the site's service is an app server or the sorry server, and the site has at least one of each. */
export function checkSiteInstances({ site, services }: Topology, report: Report): void {
  let apps = 0;
  let sorries = 0;
  services.forEach((service, index) => {
    if (service.name !== site.service) return;
    const isApp = service.tags.includes(site.appTag);
    const isSorry = service.tags.includes(site.sorryTag);
    if (isApp && isSorry) {
      report(
        `services[${index}].tags`,
        `carries both "${site.appTag}" and "${site.sorryTag}"; an instance is an app server or the sorry server, not both`,
      );
    } else if (!isApp && !isSorry) {
      report(
        `services[${index}].tags`,
        `an instance of the site service needs tag "${site.appTag}" (app server) or "${site.sorryTag}" (sorry server)`,
      );
    }
    if (isApp && !isSorry) apps += service.nodes.length;
    if (isSorry && !isApp) sorries += service.nodes.length;
  });
  if (services.some((service) => service.name === site.service)) {
    if (apps === 0)
      report("services", `no instance of "${site.service}" is tagged "${site.appTag}"; the site needs an app server`);
    if (sorries === 0)
      report(
        "services",
        `no instance of "${site.service}" is tagged "${site.sorryTag}"; the site needs a sorry server to fall back to`,
      );
  }
}

/** The entry point owns the one published entry port, so it runs on one node. */
export function checkEntryPoint({ site, services }: Topology, report: Report): void {
  const entryNodes = services
    .filter((service) => service.name === site.entryService)
    .flatMap((service) => service.nodes);
  if (entryNodes.length > 1) {
    report(
      `services[${services.findIndex((service) => service.name === site.entryService)}].nodes`,
      `the entry point "${site.entryService}" runs on ${entryNodes.length} nodes; it owns the one published entry port, so run it on exactly one`,
    );
  }
}

/**
 * Every workload listens in its node's network namespace, so a node plays one part; and a load balancer or entry
 * node runs only that nginx, so another service there would be checked on a port nothing listens on.
 */
export function checkWorkloadsPerNode(topology: Topology, report: Report): void {
  const { site } = topology;
  const kindByNode = new Map<string, WorkloadKind>();
  for (const instance of serviceInstances(topology)) {
    const kind = instanceWorkload(site, instance.service);
    if (!kind) continue;
    const other = kindByNode.get(instance.node);
    if (other && other !== kind) {
      report(
        `services[${instance.serviceIndex}].nodes`,
        `node "${instance.node}" would be both ${other} and ${kind}; a node runs one workload, so move one of them to another node`,
      );
    }
    kindByNode.set(instance.node, kind);
  }
  for (const instance of serviceInstances(topology)) {
    const kind = kindByNode.get(instance.node);
    if ((kind === "load-balancer" || kind === "entry") && !instanceWorkload(site, instance.service)) {
      report(
        `services[${instance.serviceIndex}].nodes`,
        `"${instance.service.name}" on node "${instance.node}" would have nothing listening on port ${instance.service.port}: the node runs the ${kind === "entry" ? "entry point" : "load balancer"} only; put the service on another node`,
      );
    }
  }
}
