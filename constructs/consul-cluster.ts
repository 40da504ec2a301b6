import { Image } from "@cdktf/provider-docker/lib/image";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { AclBootstrap } from "./acl-bootstrap";
import { AssetImage } from "./asset-image";
import { dnsForwarderImageSpec, loadBalancerImageSpec } from "../shared/asset-images";
import { ConsulAgent } from "./consul-agent";
import { DnsForwarder } from "./dns-forwarder";
import { EntryPoint } from "./entry-point";
import { LabNetwork } from "./lab-network";
import { LeaderGate } from "./leader-gate";
import { LoadBalancer } from "./load-balancer";
import { NodeNamespace } from "./node-namespace";
import { PageServer } from "./page-server";
import { checkSecurityMatches, ClusterSecurity } from "./cluster-security";

export interface ConsulClusterProps {
  readonly lab: Lab;
  /** The cluster's security, which must match the topology's (see clusterSecurity). */
  readonly security: ClusterSecurity;
}

/** One node of the lab: the namespace it lives in, its Consul agent, its workload if any, and its DNS forwarder. */
export interface ClusterNode {
  readonly namespace: NodeNamespace;
  readonly agent: ConsulAgent;
  readonly workload?: PageServer | LoadBalancer | EntryPoint;
  readonly dns: DnsForwarder;
}

/** The whole Consul cluster on Docker: the network, the images, and every node's agent and workload. */
export class ConsulCluster extends Construct {
  readonly network: LabNetwork;
  /** Each node's constructs by node name, in topology order. */
  readonly nodes: ReadonlyMap<string, ClusterNode>;
  /** Completes once the servers have elected a leader. */
  readonly leaderGate: LeaderGate;
  /** Applies the ACL policies and tokens ("secure" mode only). */
  readonly aclBootstrap?: AclBootstrap;

  constructor(scope: Construct, id: string, props: ConsulClusterProps) {
    super(scope, id);
    const { lab, security } = props;
    checkSecurityMatches(lab, security, "the cluster");
    // keepLocally: destroying the lab must not delete images other projects on the host may use.
    const consulImage = new Image(this, "consul-image", { name: lab.topology.images.consul, keepLocally: true });
    const nginxImage = new Image(this, "nginx-image", { name: lab.topology.images.nginx, keepLocally: true });
    // The namespace containers only sleep: the small Alpine base, which no Consul upgrade changes, so upgrading
    // Consul replaces the agent containers (their data volumes stay) and not every node's namespace with all its
    // containers. Terraform replaces them in parallel; the volumes bring the cluster back with its state.
    const alpineImage = new Image(this, "alpine-image", { name: lab.topology.images.dnsmasqBase, keepLocally: true });
    this.network = new LabNetwork(this, "network", { lab });
    const lbImage =
      lab.nodesRunning("load-balancer").length > 0
        ? new AssetImage(this, "load-balancer-image", { lab, spec: loadBalancerImageSpec(lab) })
        : undefined;
    const dnsImage = new AssetImage(this, "dnsmasq-image", { lab, spec: dnsForwarderImageSpec(lab) });
    // Each attribute read creates a token; read each image's ID once, not once per node.
    const imageIds = {
      alpine: alpineImage.imageId,
      consul: consulImage.imageId,
      nginx: nginxImage.imageId,
      dns: dnsImage.image.imageId,
      loadBalancer: lbImage?.image.imageId,
    };

    // Servers first: nothing they run waits, so Terraform can start them all whatever it schedules first.
    const namespaces = new Map<string, NodeNamespace>();
    const agents = new Map<string, ConsulAgent>();
    const agentOf = (nodeName: string, waitForLeader: boolean, after?: ITerraformDependable) => {
      const scopeOfNode = new Construct(this, nodeName);
      const namespace = new NodeNamespace(scopeOfNode, "namespace", {
        lab,
        nodeName,
        image: imageIds.alpine,
        networkName: this.network.name,
      });
      const agent = new ConsulAgent(scopeOfNode, "agent", {
        lab,
        nodeName,
        image: imageIds.consul,
        namespace,
        security,
        waitForLeader,
        dependsOn: after ? [after] : undefined,
      });
      namespaces.set(nodeName, namespace);
      agents.set(nodeName, agent);
    };
    // The publish node's agent serves the API the gate asks, so it starts with the servers when it is a client.
    const startsWithServers = (nodeName: string) =>
      lab.node(nodeName).role === "server" || nodeName === lab.publishNode.name;
    for (const node of lab.nodes) if (startsWithServers(node.name)) agentOf(node.name, false);
    this.leaderGate = new LeaderGate(this, "leader", {
      lab,
      caFile: security.mode === "secure" ? security.secrets.tls.caFile : undefined,
      agents: lab.nodes.filter((node) => startsWithServers(node.name)).map((node) => agents.get(node.name)!.container),
    });
    if (security.mode === "secure") {
      this.aclBootstrap = new AclBootstrap(this, "acl-bootstrap", {
        lab,
        secrets: security.secrets,
        after: this.leaderGate,
      });
    }
    // Clients start once there is a leader (and, when secure, their tokens), so waiting for their own health cannot
    // block a server, and they register their services at once instead of retrying on "ACL not found".
    const clientsAfter = this.aclBootstrap?.resource ?? this.leaderGate.resource;
    for (const node of lab.nodes) if (!startsWithServers(node.name)) agentOf(node.name, true, clientsAfter);

    const nodes = new Map<string, ClusterNode>();
    for (const node of lab.nodes) {
      // One scope per node name keeps every resource's logical ID tied to its node, not to its position.
      const scopeOfNode = this.node.findChild(node.name) as Construct;
      const namespace = namespaces.get(node.name)!;
      const sidecar = { lab, nodeName: node.name, namespace };
      let workload: ClusterNode["workload"];
      switch (lab.workloadOf(node.name)) {
        case undefined:
          break;
        case "load-balancer":
          workload = new LoadBalancer(scopeOfNode, "workload", {
            ...sidecar,
            image: imageIds.loadBalancer!,
            security,
            // consul-template needs its token to exist before it can read anything.
            dependsOn: this.aclBootstrap ? [this.aclBootstrap.resource] : undefined,
          });
          break;
        case "entry":
          workload = new EntryPoint(scopeOfNode, "workload", { ...sidecar, image: imageIds.nginx });
          break;
        default:
          workload = new PageServer(scopeOfNode, "workload", { ...sidecar, image: imageIds.nginx });
      }
      const dns = new DnsForwarder(scopeOfNode, "dns", { ...sidecar, image: imageIds.dns });
      nodes.set(node.name, { namespace, agent: agents.get(node.name)!, workload, dns });
    }
    this.nodes = nodes;
  }
}
