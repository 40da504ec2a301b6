import { AutopilotConfig } from "@cdktf/provider-consul/lib/autopilot-config";
import { Keys } from "@cdktf/provider-consul/lib/keys";
import { Node } from "@cdktf/provider-consul/lib/node";
import { PreparedQuery } from "@cdktf/provider-consul/lib/prepared-query";
import { Service } from "@cdktf/provider-consul/lib/service";
import { Construct } from "constructs";
import { renderSiteInstances } from "../renderers";
import type { Lab } from "../topology";
import { terraformLiteral } from "./terraform-literal";

export interface ConsulObjectsProps {
  readonly lab: Lab;
}

/**
 * What the article did by hand through the HTTP API, owned by Terraform instead: external services in the catalog,
 * autopilot's dead-server cleanup, a prepared query for the site, the site's instance list, and Terraform-owned KV.
 * Never the maintenance flag.
 */
export class ConsulObjects extends Construct {
  /** The site's prepared query; `<name>.query.consul` in DNS. */
  readonly siteQuery: PreparedQuery;

  constructor(scope: Construct, id: string, props: ConsulObjectsProps) {
    super(scope, id);
    const { lab } = props;
    const { topology } = lab;
    const datacenter = topology.datacenter;

    for (const external of topology.externalServices) {
      // Scoped by node name, so adding or removing one external service leaves the others' addresses alone.
      const scopeOfExternal = new Construct(this, `external-${external.node}`);
      const node = new Node(scopeOfExternal, "node", { name: external.node, address: external.address, datacenter });
      new Service(scopeOfExternal, "service", {
        name: external.service,
        nodeAttribute: node.name,
        datacenter,
        tags: external.tags,
        ...(external.port === undefined ? {} : { port: external.port }),
      });
    }

    const { autopilot } = topology;
    new AutopilotConfig(this, "autopilot", {
      datacenter,
      cleanupDeadServers: autopilot.cleanupDeadServers,
      lastContactThreshold: autopilot.lastContactThreshold,
      maxTrailingLogs: autopilot.maxTrailingLogs,
      serverStabilizationTime: autopilot.serverStabilizationTime,
    });

    // Passing app servers of the site, for operators: `dig @127.0.0.1 -p 8600 test_hoge_dev_jp.query.consul`.
    // Prepared-query failover only crosses datacenters, so falling back to the sorry server inside dc1 stays the
    // load balancers' job.
    const { site } = topology;
    this.siteQuery = new PreparedQuery(this, "site-query", {
      name: site.service,
      datacenter,
      service: site.service,
      tags: [site.appTag, `!${site.sorryTag}`],
      onlyPassing: true,
      dns: { ttl: topology.consul.dns.serviceTtl },
    });

    // Which catalog instances may serve the site: the load balancers' template takes no other (site-instances.ts).
    // Adding an app server updates this key in place; the load balancers pick it up without being replaced.
    new Keys(this, "site-instances", {
      datacenter,
      key: [{ path: lab.siteInstancesKey, value: terraformLiteral(renderSiteInstances(lab)) }],
    });

    const entries = Object.entries(topology.kv).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length > 0) {
      new Keys(this, "kv", {
        datacenter,
        // consul_keys manages exactly these keys (never a whole prefix), so the runtime-owned flag stays untouched.
        // Terraform reads every string as a template: a value is escaped so it is stored exactly as written.
        key: entries.map(([path, value]) => ({ path, value: terraformLiteral(value) })),
      });
    }
  }
}
