/**
 * The instances of the site's service that the topology declares, as the JSON object the consul stack writes to KV
 * (Lab.siteInstancesKey) and the load balancers' template looks catalog entries up in. Every agent token may register
 * the site's service, so the catalog can hold an instance the topology never declared: the sorry server's token
 * adding a `web` instance, or an Address such as `10.0.1.9:80; } server { ...`. Only an entry whose role, node,
 * address and port are one of these reaches nginx, so every value written into its config is one the topology
 * validated. Adding an app server changes this value (an in-place KV update), not the load balancers.
 */
import type { Lab } from "../topology";

/** How an instance is named in the list, as Go's printf writes it in the template: role, node, address, port. */
export const INSTANCE_IDENTITY_FORMAT = "%s|%s|%s|%d";

export type SiteRole = "app" | "sorry";

/** An instance's name in the list, formatted as the template's `printf INSTANCE_IDENTITY_FORMAT` does. */
export function instanceIdentity(role: SiteRole, node: string, address: string, port: number): string {
  return `${role}|${node}|${address}|${port}`;
}

/** The list's JSON text: `{"app|dev1004|10.0.1.4|80": true, ...}`, in the topology's node order. */
export function renderSiteInstances(lab: Lab): string {
  const port = lab.portOf(lab.topology.site.service);
  const entries = (["app", "sorry"] as const).flatMap((role) =>
    lab.nodesRunning(role).map((node) => [instanceIdentity(role, node.name, node.address, port), true] as const),
  );
  return JSON.stringify(Object.fromEntries(entries));
}
