import { Container, ContainerPorts } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderNodeResolver } from "../renderers";
import type { Lab } from "../topology";
import { labLabels, NAMESPACE_ROLE } from "./labels";

export interface NodeNamespaceProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The image ID of an image with a POSIX shell (the Consul image, which every lab pulls anyway). */
  readonly image: string;
  /** The Docker network the node sits on. */
  readonly networkName: string;
}

/**
 * Holds one node's network namespace: its address on the lab network, hostname, resolver settings and published
 * ports live here, and the node's agent and sidecars join it (`network_mode = container:<id>`). It does nothing else,
 * so it never needs to restart; an agent or sidecar that restarts comes back into the same namespace. Docker leaves
 * containers joined to a restarted container on its dead namespace (docker/for-linux#1299), which is why the agent
 * itself cannot hold it. This is the pod pattern Kubernetes uses with its pause container.
 */
export class NodeNamespace extends Construct {
  readonly container: Container;
  /** The network mode that joins this namespace, for the node's agent and sidecars. */
  readonly joinMode: string;

  constructor(scope: Construct, id: string, props: NodeNamespaceProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const node = lab.node(nodeName);
    const resolver = renderNodeResolver(lab);
    this.container = new Container(this, "container", {
      name: lab.dockerName(node.name, "net"),
      image: props.image,
      // Sleeps until stopped; the trap makes `docker stop` end it at once instead of after the grace period.
      entrypoint: ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"],
      hostname: node.name,
      dns: [...resolver.nameservers],
      dnsSearch: [...resolver.search],
      dnsOpts: [...resolver.options],
      networksAdvanced: [{ name: props.networkName, ipv4Address: node.address }],
      // The provider's default, said explicitly: a lab network is attached through networks_advanced.
      networkMode: "bridge",
      ports: publishedPorts(lab, node.name),
      restart: "unless-stopped",
      // Not true: with must_run, any refresh (a plan, a diff) deletes a container someone stopped on purpose, as
      // the drill and the README's experiments do. The restart policy brings it back after a crash or a reboot.
      mustRun: false,
      labels: labLabels(lab, { node: node.name, role: NAMESPACE_ROLE }),
    });
    this.joinMode = `container:${this.container.id}`;
  }
}

/**
 * The host ports a node's namespace publishes, on `publish.address` only: Consul's HTTP and DNS on the publish node,
 * the site's entry on the entry node.
 */
function publishedPorts(lab: Lab, nodeName: string): ContainerPorts[] {
  const { publish, consul, site } = lab.topology;
  const ports: ContainerPorts[] = [];
  if (lab.publishNode.name === nodeName) {
    ports.push(
      { internal: consul.ports.http, external: publish.httpPort, ip: publish.address, protocol: "tcp" },
      { internal: consul.ports.dns, external: publish.dnsPort, ip: publish.address, protocol: "tcp" },
      { internal: consul.ports.dns, external: publish.dnsPort, ip: publish.address, protocol: "udp" },
    );
  }
  if (lab.entryNode?.name === nodeName) {
    ports.push({
      internal: lab.portOf(site.entryService),
      external: publish.entryPort,
      ip: publish.address,
      protocol: "tcp",
    });
  }
  return ports;
}
