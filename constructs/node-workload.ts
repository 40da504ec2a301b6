import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderWorkloadSite, WORKLOAD_HTML_ROOT, WORKLOAD_NGINX_CONF } from "../renderers";
import type { Lab, WorkloadKind } from "../topology";
import type { ConsulAgent } from "./consul-agent";
import { terraformLiteral } from "./terraform-literal";
import { workloadContainerConfig } from "./workload-container";

export interface NodeWorkloadProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The agent whose network namespace the workload shares, so checks on 127.0.0.1 reach it. */
  readonly agent: ConsulAgent;
  /** The image ID of the nginx image that serves the site. */
  readonly image: string;
}

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
      ...workloadContainerConfig(lab, nodeName, site.kind, props.agent),
      image: props.image,
      upload: [
        { file: WORKLOAD_NGINX_CONF, content: terraformLiteral(site.nginxConf) },
        { file: `${WORKLOAD_HTML_ROOT}/index.html`, content: terraformLiteral(site.indexHtml) },
      ],
    });
  }
}
