import { AutopilotConfig } from "@cdktf/provider-consul/lib/autopilot-config";
import { Keys } from "@cdktf/provider-consul/lib/keys";
import { Node } from "@cdktf/provider-consul/lib/node";
import { PreparedQuery } from "@cdktf/provider-consul/lib/prepared-query";
import { Service } from "@cdktf/provider-consul/lib/service";
import { Fn, TerraformIterator, Token, ref } from "cdktf";
import { Construct } from "constructs";
import { renderSiteInstances } from "../renderers";
import type { Lab } from "../topology";
import { addStackFile } from "./stack-files";
import { terraformLiteral } from "./terraform-literal";

/**
 * The Terraform-owned KV, as a JSON object of path to value beside the consul stack's cdk.tf.json. Terraform reads it
 * with jsondecode(file()), so a value is data, never a template, and an input of any size passes through the synth
 * once, as text, instead of as one block per key through cdktf's resolver (__tests__/synth-scale.test.ts).
 */
export const KV_DATA_FILE = "kv.json";

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

    const paths = Object.keys(topology.kv);
    if (paths.length > 0) {
      // Sorted by path, so the same KV gives the same bytes whatever order the topology listed it in.
      addStackFile(this, KV_DATA_FILE, { pieces: () => kvDataPieces(topology.kv, paths.sort()) });
      const dataFile = Fn.join("/", [Token.asString(ref("path.module")), KV_DATA_FILE]);
      const entry = TerraformIterator.fromMap(Fn.jsondecode(Fn.file(dataFile)));
      new Keys(this, "kv", {
        datacenter,
        // consul_keys manages exactly these keys (never a whole prefix), so the runtime-owned flag stays untouched.
        key: entry.dynamic({ path: entry.key, value: entry.value }),
      });
    }
  }
}

/** The KV data file, a piece per key: a JSON object of path to value, one key to a line, in the order given. */
function* kvDataPieces(kv: Readonly<Record<string, string>>, paths: readonly string[]): Generator<string> {
  yield "{";
  for (const [index, path] of paths.entries())
    yield `${index === 0 ? "" : ","}\n  ${JSON.stringify(path)}: ${JSON.stringify(kv[path])}`;
  yield "\n}\n";
}
