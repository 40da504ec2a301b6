import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderEntryPointConf, WORKLOAD_NGINX_CONF } from "../renderers";
import type { Lab } from "../topology";
import type { ConsulAgent } from "./consul-agent";
import { terraformLiteral } from "./terraform-literal";
import { workloadContainerConfig } from "./workload-container";

export interface EntryPointProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The agent whose network namespace (and published entry port) the entry point uses. */
  readonly agent: ConsulAgent;
  /** The image ID of the nginx image. */
  readonly image: string;
}

/**
 * The site's single entry, standing in for the article's keepalived VIP: an nginx on the keepalived node that
 * proxies to every load balancer and skips one that does not answer. The host reaches it on `publish.entryPort`.
 */
export class EntryPoint extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: EntryPointProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    this.container = new Container(this, "container", {
      ...workloadContainerConfig(lab, nodeName, "entry", props.agent),
      image: props.image,
      upload: [{ file: WORKLOAD_NGINX_CONF, content: terraformLiteral(renderEntryPointConf(lab)) }],
    });
  }
}
