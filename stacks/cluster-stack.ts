import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Annotations, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { clusterSecurity, ConsulCluster } from "../constructs";
import type { Lab } from "../topology";
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
    // The Docker host comes from DOCKER_HOST (or the local socket), never from the synthesized JSON.
    new DockerProvider(this, "docker", {});
    if (!lab.secure) {
      Annotations.of(this).addWarning(
        'security is "none": gossip is unencrypted and ACLs are off, as in the article. Use it only to follow the article step by step.',
      );
    }
    this.cluster = new ConsulCluster(this, "cluster", {
      lab,
      security: clusterSecurity(lab, () => declareSecretVariables(this)),
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
          { address: node.address, role: node.role, workload: lab.workloadOf(node.name) ?? "none" },
        ]),
      ),
      description: "Every node with its address, Consul role and workload",
    });
  }
}
