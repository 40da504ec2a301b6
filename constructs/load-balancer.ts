import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { LOAD_BALANCER_PATHS, loadBalancerJob, renderConsulUiVhost, renderUpstreamTemplate } from "../renderers";
import { ConsulTemplateJob } from "./consul-template-job";
import type { ClusterSecurity } from "./cluster-security";
import { terraformLiteral } from "./terraform-literal";
import { nginxMainConfUpload, sidecarContainerConfig, SidecarProps } from "./sidecar";

export interface LoadBalancerProps extends SidecarProps {
  /** The cluster's security; "secure" gives consul-template its token. */
  readonly security: ClusterSecurity;
}

/**
 * A load balancer (dev1002, dev1003 in the article): consul-template follows the catalog and the maintenance flag,
 * renders the site's upstream, and reloads the nginx it supervises once `nginx -t` accepts the result.
 */
export class LoadBalancer extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { lab } = props;
    const consulTemplate = new ConsulTemplateJob(this, "consul-template", {
      lab,
      job: loadBalancerJob(),
      templateContents: { [LOAD_BALANCER_PATHS.template]: renderUpstreamTemplate(lab) },
      configFile: LOAD_BALANCER_PATHS.config,
      security: props.security,
    });
    this.container = new Container(this, "container", {
      ...sidecarContainerConfig(this, props, "load-balancer"),
      upload: [
        nginxMainConfUpload(),
        ...consulTemplate.uploads,
        { file: LOAD_BALANCER_PATHS.consulUi, content: terraformLiteral(renderConsulUiVhost(lab)) },
      ],
    });
  }
}
