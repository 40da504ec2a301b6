import { join } from "node:path";
import { CA_CERT_FILE, TLS_DIR } from "../../secrets";
import { jsonFileText } from "../../shared/generated-file";
import { checkPath, type Lab, type Topology, TopologySchema } from "../../topology";
import type { RunContext } from "../context";

/**
 * The topology with the defaults that are derived rather than fixed written in too: the network's gateway, the
 * publishing node, and every HTTP check's path. Loading the result gives the same lab.
 */
function withDerivedDefaults(lab: Lab): Topology {
  const { topology } = lab;
  return {
    ...topology,
    network: { ...topology.network, gateway: lab.gateway },
    services: topology.services.map((service) =>
      service.check.type === "http"
        ? { ...service, check: { ...service.check, path: checkPath(topology.site, service) } }
        : service,
    ),
    publish: { ...topology.publish, node: lab.publishNode.name },
  };
}

/**
 * `npm run --silent topology`: the effective topology as JSON, every default written in (the derived ones too), a
 * start for your own file. `-- --api`: instead, how this machine reaches the lab's API, as the ops scripts read it:
 * the URL (HTTPS in "secure" labs, with loopback for a wildcard address) and the CA file to trust, or `-` for plain
 * HTTP, one per line.
 */
export async function topologyCommand({ lab, options }: RunContext): Promise<number> {
  if (options.has("--api")) {
    process.stdout.write(`${lab.publishedApiUrl}\n${lab.secure ? join(TLS_DIR, CA_CERT_FILE) : "-"}\n`);
    return 0;
  }
  // Through the schema once more, so every key is in the schema's order and the output, read back and printed again,
  // is the same text.
  process.stdout.write(jsonFileText(TopologySchema.parse(withDerivedDefaults(lab))));
  return 0;
}
