import { Image } from "@cdktf/provider-docker/lib/image";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import { terraformLiteral } from "./terraform-literal";
import type { HostSpec, Lab } from "../topology";
import { AssetImageSpec, assetImageTag, BUILD_IMAGE_SCRIPT, buildImageEnvironment } from "../shared/asset-images";
import { fromStackDir } from "../shared/project-paths";

/** The deploy-time script that builds an image from assets/ unless it is local, from the project root. */
export interface AssetImageProps {
  readonly lab: Lab;
  readonly spec: AssetImageSpec;
  /**
   * The host it is built on, in a lab over several hosts: each host builds its own copy, as no registry is assumed.
   * @default the one engine of a lab on one host
   */
  readonly host?: HostSpec;
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
          // The host's Docker variables carry a user's folder name: Terraform must read each as written.
          environment: Object.fromEntries(
            Object.entries(buildImageEnvironment(this.tag, spec, fromStackDir, props.host)).map(([name, value]) => [
              name,
              terraformLiteral(value),
            ]),
          ),
        },
      ],
    });
    // Removed on destroy: the tag belongs to this lab alone.
    this.image = new Image(this, "image", { name: this.tag, keepLocally: false, dependsOn: [this.build] });
  }
}
