import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig } from "./config";
import { webApiImageName } from "./naming";

/** Build context of the web API, relative to the working directory so the state holds no machine-specific path. */
const IMAGES_DIR = path.relative(process.cwd(), path.resolve(__dirname, "..", "images")) || ".";

/** How the web API image of one Dockerfile target is built: `images/` with the stack's bases (shared with the swarm's services). */
export function webApiBuild(dockerfileTarget: string, images: ImagesConfig): docker.types.input.DockerBuild {
  return {
    context: IMAGES_DIR,
    dockerfile: path.join(IMAGES_DIR, "Dockerfile"),
    target: dockerfileTarget,
    args: {
      NODE_IMAGE: images.nodeImage,
      NODE_MINIMAL_IMAGE: images.nodeMinimalImage,
      BUN_IMAGE: images.bunImage,
      BUN_MINIMAL_IMAGE: images.bunMinimalImage,
    },
    network: images.buildNetwork,
  };
}

export interface WebApiImageArgs {
  /** Dockerfile target, e.g. `minimal` or `minimal-bun` (naming.dockerfileTarget). */
  dockerfileTarget: string;
  images: ImagesConfig;
  /** Removes the image's tag on destroy; the image depends on it so it goes last. */
  imageCleanup: pulumi.Resource;
  /** The stack the image's tag is scoped to (naming.webApiImageName). */
  stackName: string;
}

/**
 * One web API image, built from `images/` for one (target, runtime): every variant of that pair
 * runs it, so the lab builds each image once however many budgets share it.
 */
export class WebApiImage extends pulumi.ComponentResource {
  public readonly image: docker.Image;
  /** The local image ID, which changes exactly when the build does. */
  public readonly id: pulumi.Output<string>;

  constructor(name: string, args: WebApiImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:WebApiImage", name, {}, opts);
    this.image = new docker.Image(
      name,
      {
        imageName: webApiImageName(args.dockerfileTarget, args.stackName),
        skipPush: true,
        build: webApiBuild(args.dockerfileTarget, args.images),
      },
      { parent: this, dependsOn: [args.imageCleanup] },
    );
    this.id = this.image.repoDigest;
    this.registerOutputs({ id: this.id });
  }
}
