import { Image } from "@cdktf/provider-docker/lib/image";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { AssetImageSpec, assetImageTag } from "./asset-images";

export interface AssetImageProps {
  readonly lab: Lab;
  readonly spec: AssetImageSpec;
}

/**
 * An image built from assets/ by `npm run deploy` (with `docker build`, before Terraform runs), referred to by its
 * tag. The provider finds a local tag without pulling it. Its own `build` block is not used: it needs the
 * containerd image store off, which Docker Engine 29 turns on by default.
 */
export class AssetImage extends Construct {
  readonly image: Image;
  /** The image's tag: `<lab>-<name>:<digest of its inputs>`. */
  readonly tag: string;

  constructor(scope: Construct, id: string, props: AssetImageProps) {
    super(scope, id);
    this.tag = assetImageTag(props.lab, props.spec);
    // Removed on destroy: the tag belongs to this lab alone.
    this.image = new Image(this, "image", { name: this.tag, keepLocally: false });
  }
}
