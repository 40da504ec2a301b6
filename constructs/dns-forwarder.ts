import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { DNSMASQ_CONF_FILE, renderDnsmasqConf } from "../renderers";
import type { Lab } from "../topology";
import { AssetImage } from "./asset-image";
import type { ConsulAgent } from "./consul-agent";
import { terraformLiteral } from "./terraform-literal";
import { workloadContainerConfig } from "./workload-container";

/** The DNS forwarders' image, built from assets/dnsmasq on the pinned Alpine base. */
export function dnsForwarderImage(scope: Construct, id: string, lab: Lab): AssetImage {
  return new AssetImage(scope, id, {
    lab,
    name: "dnsmasq",
    assetDir: "dnsmasq",
    files: ["Dockerfile"],
    buildArgs: { BASE_IMAGE: lab.topology.images.dnsmasqBase },
  });
}

export interface DnsForwarderProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The agent whose network namespace (and loopback DNS interface) the forwarder shares. */
  readonly agent: ConsulAgent;
  /** The image ID of the forwarders' image. */
  readonly image: string;
}

/** A node's dnsmasq: the article's `.consul` forwarder, so `ping keepalived.service.consul` works on every node. */
export class DnsForwarder extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: DnsForwarderProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    this.container = new Container(this, "container", {
      ...workloadContainerConfig(lab, nodeName, "dns", props.agent),
      image: props.image,
      upload: [{ file: DNSMASQ_CONF_FILE, content: terraformLiteral(renderDnsmasqConf(lab)) }],
    });
  }
}
