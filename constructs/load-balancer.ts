import { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { LOAD_BALANCER_PATHS, loadBalancerJob, renderConsulUiVhost, renderUpstreamTemplate } from "../renderers";
import type { Lab } from "../topology";
import { AssetImage } from "./asset-image";
import type { ConsulAgent } from "./consul-agent";
import { ConsulTemplateJob } from "./consul-template-job";
import type { SecretRefs } from "./secret-refs";
import { terraformLiteral } from "./terraform-literal";
import { workloadContainerConfig } from "./workload-container";

/** The load balancers' image, built from assets/load-balancer: nginx with the consul-template binary beside it. */
export function loadBalancerImage(scope: Construct, id: string, lab: Lab): AssetImage {
  const { images } = lab.topology;
  return new AssetImage(scope, id, {
    lab,
    name: "load-balancer",
    assetDir: "load-balancer",
    files: ["Dockerfile", "install-site-conf.sh"],
    buildArgs: { NGINX_IMAGE: images.nginx, CONSUL_TEMPLATE_IMAGE: images.consulTemplate },
  });
}

export interface LoadBalancerProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The agent whose network namespace the load balancer shares; consul-template talks to it on 127.0.0.1. */
  readonly agent: ConsulAgent;
  /** The image ID of the load balancers' image. */
  readonly image: string;
  /** The lab's secrets; required when the topology's security is "secure". */
  readonly secrets?: SecretRefs;
}

/**
 * A load balancer (dev1002, dev1003 in the article): consul-template follows the catalog and the maintenance flag,
 * renders the site's upstream, and reloads the nginx it supervises once `nginx -t` accepts the result.
 */
export class LoadBalancer extends Construct {
  readonly container: Container;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const consulTemplate = new ConsulTemplateJob(this, "consul-template", {
      lab,
      job: loadBalancerJob(),
      templateContents: { [LOAD_BALANCER_PATHS.template]: renderUpstreamTemplate(lab) },
      configFile: LOAD_BALANCER_PATHS.config,
      secrets: props.secrets,
    });
    this.container = new Container(this, "container", {
      ...workloadContainerConfig(lab, nodeName, "load-balancer", props.agent),
      image: props.image,
      env: consulTemplate.env,
      upload: [
        ...consulTemplate.uploads,
        { file: LOAD_BALANCER_PATHS.consulUi, content: terraformLiteral(renderConsulUiVhost(lab)) },
      ],
    });
  }
}
