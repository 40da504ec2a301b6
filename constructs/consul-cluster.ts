import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { AclBootstrap } from "./acl-bootstrap";
import { ConsulAgent } from "./consul-agent";
import { requireSecrets, SecretRefs } from "./secret-refs";
import { EntryPoint } from "./entry-point";
import { LabNetwork } from "./lab-network";
import { DnsForwarder, dnsForwarderImage } from "./dns-forwarder";
import { LoadBalancer, loadBalancerImage } from "./load-balancer";
import { NodeWorkload } from "./node-workload";

export interface ConsulClusterProps {
  readonly lab: Lab;
  /** The lab's secrets; required when the topology's security is "secure". */
  readonly secrets?: SecretRefs;
}

/** One node of the lab: its Consul agent and, when it registers services, the workload they check. */
export interface ClusterNode {
  readonly agent: ConsulAgent;
  readonly workload?: NodeWorkload | LoadBalancer | EntryPoint;
  readonly dns: DnsForwarder;
}

/** The whole Consul cluster on Docker: the network, the images, and every node's agent and workload. */
export class ConsulCluster extends Construct {
  readonly network: LabNetwork;
  /** Each node's constructs by node name, in topology order. */
  readonly nodes: ReadonlyMap<string, ClusterNode>;
  /** Applies the ACL policies and tokens ("secure" mode only). */
  readonly aclBootstrap?: AclBootstrap;

  constructor(scope: Construct, id: string, props: ConsulClusterProps) {
    super(scope, id);
    const { lab } = props;
    // keepLocally: destroying the lab must not delete images other projects on the host may use.
    const consulImage = new Image(this, "consul-image", { name: lab.topology.images.consul, keepLocally: true });
    const nginxImage = new Image(this, "nginx-image", { name: lab.topology.images.nginx, keepLocally: true });
    this.network = new LabNetwork(this, "network", { lab });
    const lbImage =
      lab.nodesRunning("load-balancer").length > 0 ? loadBalancerImage(this, "load-balancer-image", lab) : undefined;
    const dnsImage = dnsForwarderImage(this, "dnsmasq-image", lab);
    // Each attribute read creates a token; read each image's ID once, not once per node.
    const imageIds = {
      consul: consulImage.imageId,
      nginx: nginxImage.imageId,
      dns: dnsImage.image.imageId,
      loadBalancer: lbImage?.image.imageId,
    };

    const nodes = new Map<string, ClusterNode>();
    for (const node of lab.nodes) {
      // One scope per node name keeps every resource's logical ID tied to its node, not to its position.
      const scopeOfNode = new Construct(this, node.name);
      const agent = new ConsulAgent(scopeOfNode, "agent", {
        lab,
        nodeName: node.name,
        image: imageIds.consul,
        networkName: this.network.name,
        secrets: props.secrets,
      });
      const workloadProps = { lab, nodeName: node.name, agent };
      let workload: ClusterNode["workload"];
      switch (lab.workloadOf(node.name)) {
        case undefined:
          break;
        case "load-balancer":
          workload = new LoadBalancer(scopeOfNode, "workload", {
            ...workloadProps,
            image: imageIds.loadBalancer!,
            secrets: props.secrets,
          });
          break;
        case "entry":
          workload = new EntryPoint(scopeOfNode, "workload", { ...workloadProps, image: imageIds.nginx });
          break;
        default:
          workload = new NodeWorkload(scopeOfNode, "workload", { ...workloadProps, image: imageIds.nginx });
      }
      const dns = new DnsForwarder(scopeOfNode, "dns", { ...workloadProps, image: imageIds.dns });
      nodes.set(node.name, { agent, workload, dns });
    }
    this.nodes = nodes;
    if (lab.topology.security === "secure") {
      this.aclBootstrap = new AclBootstrap(this, "acl-bootstrap", {
        lab,
        secrets: requireSecrets(props.secrets, "the cluster"),
        servers: lab.servers.map((server) => nodes.get(server.name)!.agent),
      });
    }
  }
}
