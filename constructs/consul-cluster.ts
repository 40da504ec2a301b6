import { Image } from "@cdktf/provider-docker/lib/image";
import { TerraformResource, type ITerraformDependable, type TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { CLUSTER_SCOPE_IDS, hostScopeId, type HostSpec, type Lab, type WorkloadKind } from "../topology";
import { AclBootstrap } from "./acl-bootstrap";
import { AssetImage } from "./asset-image";
import { dnsForwarderImageSpec, labAssetImages, loadBalancerImageSpec } from "../shared/asset-images";
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
  /**
   * Each host's Docker provider by host name, for a lab over several hosts: every Docker object of a node is made
   * through its host's provider, the network through the manager's.
   * @default none: a lab on one host uses the stack's one Docker provider
   */
  readonly hostProviders?: ReadonlyMap<string, TerraformProvider>;
}

/** The IDs of the images a host's containers run, each read once (each attribute read creates a token). */
interface ImageIds {
  readonly alpine: string;
  readonly consul: string;
  readonly nginx?: string;
  readonly dns: string;
  readonly loadBalancer?: string;
}

/**
 * The images the lab runs, made in `scope` for one host: the pinned ones and those built from assets/, for the nodes
 * it runs (a lab on one host always has nginx's). `host`: where the built ones are built, on a lab over several hosts.
 */
function labImages(scope: Construct, lab: Lab, host?: HostSpec): ImageIds {
  const workloads = lab.workloadsOn(host?.name);
  const runsPages = ["app", "sorry", "entry", "placeholder"].some((kind) => workloads.has(kind as WorkloadKind));
  // keepLocally: destroying the lab must not delete images other projects on the host may use.
  const consulImage = new Image(scope, CLUSTER_SCOPE_IDS.consulImage, {
    name: lab.topology.images.consul,
    keepLocally: true,
  });
  const nginxImage =
    !host || runsPages
      ? new Image(scope, CLUSTER_SCOPE_IDS.nginxImage, { name: lab.topology.images.nginx, keepLocally: true })
      : undefined;
  // The namespace containers only sleep: the small Alpine base, which no Consul upgrade changes, so upgrading
  // Consul replaces the agent containers (their data volumes stay) and not every node's namespace with all its
  // containers. Terraform replaces them in parallel; the volumes bring the cluster back with its state.
  const alpineImage = new Image(scope, CLUSTER_SCOPE_IDS.alpineImage, {
    name: lab.topology.images.dnsmasqBase,
    keepLocally: true,
  });
  const built = new Map(
    labAssetImages(lab, host).map((spec) => [
      spec.name,
      new AssetImage(scope, `${spec.name}-image`, { lab, spec, host }),
    ]),
  );
  return {
    alpine: alpineImage.imageId,
    consul: consulImage.imageId,
    nginx: nginxImage?.imageId,
    dns: built.get(dnsForwarderImageSpec(lab).name)!.image.imageId,
    loadBalancer: built.get(loadBalancerImageSpec(lab).name)?.image.imageId,
  };
}

/** Makes every Docker object under `scope` through `provider` (set after creation, so no construct needs a prop). */
function useProvider(scope: Construct, provider: TerraformProvider): void {
  for (const child of scope.node.findAll()) {
    if (child instanceof TerraformResource && child.terraformResourceType.startsWith("docker_"))
      child.provider = provider;
  }
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
    const providerOf = (host: HostSpec | undefined) => {
      if (!host) return undefined;
      const provider = props.hostProviders?.get(host.name);
      if (!provider) throw new Error(`the cluster needs a Docker provider for host "${host.name}" (hostProviders)`);
      return provider;
    };
    // One host: the images and the network in the cluster's scope, as they always were. Several: each host's images
    // in a scope of its own, made through its provider, for the nodes it runs.
    // Each node's scope sits in its host's, so a node that moves to another host is replaced there (destroyed
    // through the old host's provider, created through the new one's), never looked for on the wrong engine.
    const imagesByHost = new Map<string | undefined, ImageIds>();
    const hostScopes = new Map<string, Construct>();
    if (!lab.multiHost) imagesByHost.set(undefined, labImages(this, lab));
    for (const host of lab.hosts) {
      if (lab.nodesOn(host.name).length === 0) continue;
      const scopeOfHost = new Construct(this, hostScopeId(host.name));
      hostScopes.set(host.name, scopeOfHost);
      imagesByHost.set(host.name, labImages(scopeOfHost, lab, host));
    }
    const parentOfNode = (nodeName: string): Construct => {
      const host = lab.hostOf(nodeName);
      return host ? hostScopes.get(host.name)! : this;
    };
    const imagesOf = (nodeName: string) => imagesByHost.get(lab.hostOf(nodeName)?.name)!;
    this.network = new LabNetwork(this, CLUSTER_SCOPE_IDS.network, { lab });
    const manager = providerOf(lab.managerHost);
    if (manager) useProvider(this.network, manager);

    // Servers first: nothing they run waits, so Terraform can start them all whatever it schedules first.
    const namespaces = new Map<string, NodeNamespace>();
    const agents = new Map<string, ConsulAgent>();
    const agentOf = (nodeName: string, waitForLeader: boolean, after?: ITerraformDependable) => {
      const scopeOfNode = new Construct(parentOfNode(nodeName), nodeName);
      const namespace = new NodeNamespace(scopeOfNode, "namespace", {
        lab,
        nodeName,
        image: imagesOf(nodeName).alpine,
        networkName: this.network.name,
      });
      const agent = new ConsulAgent(scopeOfNode, "agent", {
        lab,
        nodeName,
        image: imagesOf(nodeName).consul,
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
    this.leaderGate = new LeaderGate(this, CLUSTER_SCOPE_IDS.leader, {
      lab,
      caFile: security.mode === "secure" ? security.secrets.tls.caFile : undefined,
      agents: lab.nodes.filter((node) => startsWithServers(node.name)).map((node) => agents.get(node.name)!.container),
    });
    if (security.mode === "secure") {
      this.aclBootstrap = new AclBootstrap(this, CLUSTER_SCOPE_IDS.aclBootstrap, {
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
      const scopeOfNode = parentOfNode(node.name).node.findChild(node.name) as Construct;
      const namespace = namespaces.get(node.name)!;
      const sidecar = { lab, nodeName: node.name, namespace };
      const imageIds = imagesOf(node.name);
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
          workload = new EntryPoint(scopeOfNode, "workload", { ...sidecar, image: imageIds.nginx! });
          break;
        default:
          workload = new PageServer(scopeOfNode, "workload", { ...sidecar, image: imageIds.nginx! });
      }
      const dns = new DnsForwarder(scopeOfNode, "dns", { ...sidecar, image: imageIds.dns });
      nodes.set(node.name, { namespace, agent: agents.get(node.name)!, workload, dns });
    }
    this.nodes = nodes;
    // Every Docker object of a host (its images, its nodes' containers and volumes) through its host's provider.
    for (const host of lab.hosts) {
      const scope = hostScopes.get(host.name);
      if (scope) useProvider(scope, providerOf(host)!);
    }
  }
}
