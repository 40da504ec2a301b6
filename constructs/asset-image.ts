import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { assetPathFromStack, contentDigest } from "./assets";

export interface AssetImageProps {
  readonly lab: Lab;
  /** The image's name without tag, after the lab's prefix: `load-balancer` makes `consul-lab-load-balancer:<digest>`. */
  readonly name: string;
  /** The build context, a directory under assets/ holding a Dockerfile. */
  readonly assetDir: string;
  /** The files of `assetDir` the build reads; they and the build args make the tag. */
  readonly files: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
}

/** An image the stack builds from a directory under assets/, on base images the topology pins. */
export class AssetImage extends Construct {
  readonly image: Image;

  constructor(scope: Construct, id: string, props: AssetImageProps) {
    super(scope, id);
    const files = props.files.map((file) => `${props.assetDir}/${file}`);
    this.image = new Image(this, "image", {
      // The tag is a digest of the build's inputs, so changing a file or a base image rebuilds it.
      name: `${props.lab.dockerName(props.name)}:${contentDigest(files, props.buildArgs)}`,
      buildAttribute: { context: assetPathFromStack(props.assetDir), buildArgs: { ...props.buildArgs } },
      keepLocally: false,
    });
  }
}
