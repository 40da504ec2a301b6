import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderEntryPointConf, WORKLOAD_NGINX_CONF } from "../renderers";
import { terraformLiteral } from "./terraform-literal";
import { nginxMainConfUpload, sidecarContainerConfig, SidecarProps } from "./sidecar";

/** The entry point runs the nginx image; its namespace publishes the entry port. */
export type EntryPointProps = SidecarProps;

/**
 * The site's single entry, standing in for the article's keepalived VIP: an nginx on the keepalived node that
 * proxies to every load balancer and skips one that does not answer. The host reaches it on `publish.entryPort`.
 */
export class EntryPoint extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: EntryPointProps) {
    super(scope, id);
    this.container = new Container(this, "container", {
      ...sidecarContainerConfig(this, props, "entry"),
      upload: [
        nginxMainConfUpload(),
        { file: WORKLOAD_NGINX_CONF, content: terraformLiteral(renderEntryPointConf(props.lab)) },
      ],
    });
  }
}
