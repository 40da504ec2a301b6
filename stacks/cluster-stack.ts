import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Annotations, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { clusterSecurity, ConsulCluster } from "../constructs";
import type { Lab } from "../topology";
import { providerSettingsOf } from "../shared/docker-hosts";
import { terraformLiteral } from "../constructs/terraform-literal";
import { LabStack, LabStackOptions } from "./lab-stack";
import { declareSecretVariables } from "./secret-variables";

export interface ClusterStackProps extends LabStackOptions {
  readonly lab: Lab;
}

/** The Docker side of the lab: network, images, every node's agent, workload and DNS forwarder, and the ACL bootstrap. */
export class ClusterStack extends LabStack {
  readonly cluster: ConsulCluster;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    const { lab } = props;
    // One host: the engine comes from DOCKER_HOST (or the local socket), never from the synthesized JSON. Several:
    // one aliased provider per host, named after it, and no default provider, which would dial the local socket
    // (kreuzwerker/terraform-provider-docker#68).
    if (!lab.multiHost) new DockerProvider(this, "docker", {});
    const hostProviders = new Map(
      lab.hosts.map((host) => [
        host.name,
        new DockerProvider(this, `docker-${host.name}`, {
          alias: host.name,
          // A folder's name is the user's free text: Terraform must read it as written (terraform-literal.ts).
          ...Object.fromEntries(
            Object.entries(providerSettingsOf(host)).map(([key, value]) => [key, terraformLiteral(value)]),
          ),
        }),
      ]),
    );
    for (const { host, servers } of lab.hostsSharingServers) {
      Annotations.of(this).addWarning(
        `host ${host} runs the servers ${servers.join(", ")}: losing that host loses all of their votes at once`,
      );
    }
    if (!lab.secure) {
      Annotations.of(this).addWarning(
        'security is "none": gossip is unencrypted and ACLs are off, as in the article. Use it only to follow the article step by step.',
      );
    }
    this.cluster = new ConsulCluster(this, "cluster", {
      lab,
      security: clusterSecurity(lab, () => declareSecretVariables(this)),
      hostProviders,
    });

    const { publish } = lab.topology;
    new TerraformOutput(this, "entry_url", {
      value: `http://${lab.publishedHost}:${publish.entryPort}/`,
      description: "The site's single entry point (the article's VIP), in front of every load balancer",
    });
    new TerraformOutput(this, "consul_ui_url", {
      value: `${lab.publishedApiUrl}/ui/`,
      description: lab.secure
        ? "The Consul UI and API over HTTPS, published on the host (trust .secrets/tls/ca.pem)"
        : "The Consul UI and HTTP API, published on the host",
    });
    new TerraformOutput(this, "consul_dns", {
      value: `${lab.publishedHost}:${publish.dnsPort}`,
      description: "Consul DNS (tcp and udp), e.g. dig @127.0.0.1 -p 8600 nginx.service.consul",
    });
    new TerraformOutput(this, "nodes", {
      value: Object.fromEntries(
        lab.nodes.map((node) => [
          node.name,
          {
            address: node.address,
            role: node.role,
            workload: lab.workloadOf(node.name) ?? "none",
            ...(lab.multiHost ? { host: lab.hostOf(node.name)!.name } : {}),
          },
        ]),
      ),
      description: "Every node with its address, Consul role and workload",
    });
  }
}
