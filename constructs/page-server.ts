import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { renderWorkloadSite, WORKLOAD_HTML_ROOT, WORKLOAD_NGINX_CONF } from "../renderers";
import type { WorkloadKind } from "../topology";
import { terraformLiteral } from "./terraform-literal";
import { nginxMainConfUpload, sidecarContainerConfig, SidecarProps } from "./sidecar";

/** A page server runs the nginx image. */
export type PageServerProps = SidecarProps;

/**
 * The workload of an app server, the sorry server or a node with another service: an nginx in the node's namespace
 * serving the node's page on every port its services register, which is what their checks test.
 */
export class PageServer extends Construct {
  readonly container: Container;
  readonly kind: WorkloadKind;

  constructor(scope: Construct, id: string, props: PageServerProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const site = renderWorkloadSite(lab, nodeName);
    if (!site) throw new Error(`node "${nodeName}" registers no service, so it has no workload to run`);
    this.kind = site.kind;
    this.container = new Container(this, "container", {
      ...sidecarContainerConfig(this, props, site.kind),
      upload: [
        nginxMainConfUpload(),
        { file: WORKLOAD_NGINX_CONF, content: terraformLiteral(site.nginxConf) },
        { file: `${WORKLOAD_HTML_ROOT}/index.html`, content: terraformLiteral(site.indexHtml) },
      ],
    });
  }
}
