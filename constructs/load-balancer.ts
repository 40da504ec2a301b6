import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import {
  LOAD_BALANCER_PATHS,
  renderConsulTemplateConfigJson,
  renderConsulUiVhost,
  renderUpstreamTemplate,
} from "../renderers";
import type { Lab } from "../topology";
import { assetPathFromStack, contentDigest } from "./assets";
import type { ConsulAgent } from "./consul-agent";
import { workloadContainerConfig } from "./workload-container";

const IMAGE_ASSETS = ["load-balancer/Dockerfile", "load-balancer/install-site-conf.sh"];

export interface LoadBalancerImageProps {
  readonly lab: Lab;
}

/** The load balancers' image, built by the stack from assets/load-balancer: nginx with consul-template beside it. */
export class LoadBalancerImage extends Construct {
  readonly image: Image;

  constructor(scope: Construct, id: string, props: LoadBalancerImageProps) {
    super(scope, id);
    const { images } = props.lab.topology;
    const buildArgs = { NGINX_IMAGE: images.nginx, CONSUL_TEMPLATE_IMAGE: images.consulTemplate };
    this.image = new Image(this, "image", {
      // The tag is a digest of the build's inputs, so changing the Dockerfile, the script or a base image rebuilds it.
      name: `${props.lab.dockerName("load-balancer")}:${contentDigest(IMAGE_ASSETS, buildArgs)}`,
      buildAttribute: { context: assetPathFromStack("load-balancer"), buildArgs },
      keepLocally: false,
    });
  }
}

export interface LoadBalancerProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The agent whose network namespace the load balancer shares; consul-template talks to it on 127.0.0.1. */
  readonly agent: ConsulAgent;
  /** The image ID of the load balancers' image. */
  readonly image: string;
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
    this.container = new Container(this, "container", {
      ...workloadContainerConfig(lab, nodeName, "load-balancer", props.agent),
      image: props.image,
      upload: [
        { file: LOAD_BALANCER_PATHS.config, content: renderConsulTemplateConfigJson(lab) },
        { file: LOAD_BALANCER_PATHS.template, content: renderUpstreamTemplate(lab) },
        { file: LOAD_BALANCER_PATHS.consulUi, content: renderConsulUiVhost(lab) },
      ],
    });
  }
}
