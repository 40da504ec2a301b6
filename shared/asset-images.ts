/**
 * The images the lab builds from assets/, as data: scripts/deploy-time/build-image.mjs builds them (the cluster
 * stack's build steps, and `npm run deploy` before Terraform runs), and the stack refers to them by tag. The tag is a digest of the build's inputs, so a
 * change to a file or a base image makes a new tag, which replaces the containers that run it.
 */
import { createHash } from "node:crypto";
import type { HostSpec, Lab } from "../topology";
import { assetText } from "./assets";
import { dockerVariablesOf } from "./docker-hosts";

export interface AssetImageSpec {
  /** The image's name after the lab's prefix: `load-balancer` makes `consul-lab-load-balancer:<digest>`. */
  readonly name: string;
  /** The build context, a directory under assets/ holding a Dockerfile. */
  readonly assetDir: string;
  /** The files of `assetDir` the build reads; they and the build args make the tag. */
  readonly files: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
}

/** The load balancers' image: nginx with the consul-template binary beside it. */
export function loadBalancerImageSpec(lab: Lab): AssetImageSpec {
  const { images } = lab.topology;
  return {
    name: "load-balancer",
    assetDir: "load-balancer",
    files: ["Dockerfile", "install-site-conf.sh"],
    buildArgs: { NGINX_IMAGE: images.nginx, CONSUL_TEMPLATE_IMAGE: images.consulTemplate },
  };
}

/** The DNS forwarders' image: dnsmasq on the pinned Alpine base. */
export function dnsForwarderImageSpec(lab: Lab): AssetImageSpec {
  return {
    name: "dnsmasq",
    assetDir: "dnsmasq",
    files: ["Dockerfile"],
    buildArgs: { BASE_IMAGE: lab.topology.images.dnsmasqBase },
  };
}

/**
 * Every image this lab builds: the forwarders' always, the load balancers' when a node runs one; on a lab over several
 * hosts, those a given host's nodes run (each host builds its own copies).
 */
export function labAssetImages(lab: Lab, host?: HostSpec): AssetImageSpec[] {
  const hasLoadBalancers = lab.workloadsOn(host?.name).has("load-balancer");
  return [...(hasLoadBalancers ? [loadBalancerImageSpec(lab)] : []), dnsForwarderImageSpec(lab)];
}

/** The image's full reference: `<lab>-<name>:<digest of its inputs>`. */
export function assetImageTag(lab: Lab, spec: AssetImageSpec): string {
  const hash = createHash("sha256");
  for (const file of spec.files) {
    const path = `${spec.assetDir}/${file}`;
    hash.update(path).update("\0").update(assetText(path)).update("\0");
  }
  for (const [key, value] of Object.entries(spec.buildArgs).sort())
    hash.update(key).update("=").update(value).update("\0");
  return `${lab.dockerName(spec.name)}:${hash.digest("hex").slice(0, 12)}`;
}

/** The script that builds one of these images, from the project root. */
export const BUILD_IMAGE_SCRIPT = "scripts/deploy-time/build-image.mjs";

/**
 * What build-image.mjs reads: the tag, the context directory (`at` turns a project-relative path into the caller's
 * view of it), the build args, and on a lab over several hosts the Docker variables of the host it builds on (set or
 * cleared, which an environment passed through Terraform cannot do by itself). The CLI runs the same script with the
 * same settings.
 */
export function buildImageEnvironment(
  tag: string,
  spec: AssetImageSpec,
  at: (projectRelativePath: string) => string,
  host?: HostSpec,
): Record<string, string> {
  return {
    CONSUL_LAB_IMAGE_TAG: tag,
    CONSUL_LAB_IMAGE_CONTEXT: at(`assets/${spec.assetDir}`),
    CONSUL_LAB_IMAGE_BUILD_ARGS: JSON.stringify(spec.buildArgs),
    ...(host ? { CONSUL_LAB_IMAGE_DOCKER_VARIABLES: JSON.stringify(dockerVariablesOf(host)) } : {}),
  };
}
