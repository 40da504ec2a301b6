import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderWorkloadSite, WORKLOAD_HTML_ROOT, WORKLOAD_NGINX_CONF } from "../renderers";
import type { WorkloadKind } from "../topology";
import { terraformLiteral } from "./terraform-literal";
import { sidecarContainerConfig, SidecarProps } from "./sidecar";

/** The page runs the nginx image that serves the site. */
export type NodeWorkloadProps = SidecarProps;

/**
 * What an app server's, the sorry server's or another service's checks test: an nginx in the agent's network
 * namespace serving the node's page on every service port.
 */
export class NodeWorkload extends Construct {
  readonly container: Container;
  readonly kind: WorkloadKind;

  constructor(scope: Construct, id: string, props: NodeWorkloadProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const site = renderWorkloadSite(lab, nodeName);
    if (!site) throw new Error(`node "${nodeName}" registers no service, so it has no workload to run`);
    this.kind = site.kind;
    this.container = new Container(this, "container", {
      ...sidecarContainerConfig(props, site.kind),
      upload: [
        { file: WORKLOAD_NGINX_CONF, content: terraformLiteral(site.nginxConf) },
        { file: `${WORKLOAD_HTML_ROOT}/index.html`, content: terraformLiteral(site.indexHtml) },
      ],
    });
  }
}
