import { Container, ContainerPorts } from "@cdktf/provider-docker/lib/container";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import { renderNodeResolver } from "../renderers";
import { type Lab, publishedPorts as publishedPortsOf } from "../topology";
import { NAMESPACE_ROLE } from "../shared/labels";
import { labContainerBase } from "./lab-container";

export interface NodeNamespaceProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The image ID of an image with a POSIX shell (the pinned Alpine image the DNS forwarders are built on). */
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
    const ports = publishedPorts(lab, node.name);
    // As Docker prints them (`127.0.0.1:8500->8500/tcp`), so a plan that replaces the namespace says why. Every
    // namespace has one, "none" without ports: Terraform replaces a container when its trigger changes, not when the
    // trigger is created, so a node that starts or stops publishing must find its trigger there already.
    const portsTrigger = new DataResource(this, "published-ports", {
      triggersReplace: {
        ports:
          ports.length > 0 ? ports.map((p) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`).join(", ") : "none",
      },
    });
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
      ...(ports.length > 0 ? { ports } : {}),
      // The engine forgets a stopped container's ports, so they are ignored on read-back (engine-read-back.ts); a
      // change to the declared ones still replaces the namespace, through this trigger.
      ...labContainerBase(this, lab, node.name, NAMESPACE_ROLE, [portsTrigger]),
    });
    this.joinMode = `container:${this.container.id}`;
  }
}

/** The namespace's published ports, from the listener table (topology/listeners.ts), as the provider takes them. */
function publishedPorts(lab: Lab, nodeName: string): ContainerPorts[] {
  return publishedPortsOf(lab.topology, nodeName).map((port) => ({
    internal: port.containerPort,
    external: port.hostPort,
    ip: port.hostAddress,
    protocol: port.protocol,
  }));
}
