import { Image } from "@cdktf/provider-docker/lib/image";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { AssetImageSpec, assetImageTag } from "./asset-images";
import { fromStackDir } from "./project-paths";

/** The deploy-time script that builds an image from assets/ unless it is local, from the project root. */
export const BUILD_IMAGE_SCRIPT = "scripts/deploy-time/build-image.mjs";

export interface AssetImageProps {
  readonly lab: Lab;
  readonly spec: AssetImageSpec;
}

/**
 * An image built from assets/, referred to by its tag. A build step runs first on the deploying machine (the user's
 * own `docker buildx build --load`, or `docker build`), unless the tag is local already, so `npx cdktf deploy` builds
 * what it deploys as `npm run deploy` does. The provider then finds the local tag without pulling it. Its own `build`
 * block is not used: it needs the containerd image store off, which Docker Engine 29 turns on by default.
 */
export class AssetImage extends Construct {
  readonly image: Image;
  /** The image's tag: `<lab>-<name>:<digest of its inputs>`. */
  readonly tag: string;
  /** The build step; a new tag (a change of any input) runs it again. */
  readonly build: DataResource;

  constructor(scope: Construct, id: string, props: AssetImageProps) {
    super(scope, id);
    const { spec } = props;
    this.tag = assetImageTag(props.lab, spec);
    this.build = new DataResource(this, "build", {
      triggersReplace: { tag: this.tag },
      provisioners: [
        {
          type: "local-exec",
          command: `node ${fromStackDir(BUILD_IMAGE_SCRIPT)}`,
          environment: buildImageEnvironment(this.tag, spec, fromStackDir),
        },
      ],
    });
    // Removed on destroy: the tag belongs to this lab alone.
    this.image = new Image(this, "image", { name: this.tag, keepLocally: false, dependsOn: [this.build] });
  }
}

/**
 * What build-image.mjs reads: the tag, the context directory (`at` turns a project-relative path into the caller's
 * view of it) and the build args. The CLI runs the same script with the same settings.
 */
export function buildImageEnvironment(
  tag: string,
  spec: AssetImageSpec,
  at: (projectRelativePath: string) => string,
): Record<string, string> {
  return {
    CONSUL_LAB_IMAGE_TAG: tag,
    CONSUL_LAB_IMAGE_CONTEXT: at(`assets/${spec.assetDir}`),
    CONSUL_LAB_IMAGE_BUILD_ARGS: JSON.stringify(spec.buildArgs),
  };
}
