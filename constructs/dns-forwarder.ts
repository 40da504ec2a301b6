import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { DNSMASQ_CONF_FILE, renderDnsmasqConf } from "../renderers";
import { terraformLiteral } from "./terraform-literal";
import { sidecarContainerConfig, SidecarProps } from "./sidecar";

/** The forwarder runs the forwarders' image, on the node's loopback where its resolver sends queries. */
export type DnsForwarderProps = SidecarProps;

/** A node's dnsmasq: the article's `.consul` forwarder, so `ping keepalived.service.consul` works on every node. */
export class DnsForwarder extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: DnsForwarderProps) {
    super(scope, id);
    this.container = new Container(this, "container", {
      ...sidecarContainerConfig(this, props, "dns"),
      upload: [{ file: DNSMASQ_CONF_FILE, content: terraformLiteral(renderDnsmasqConf(props.lab)) }],
    });
  }
}
