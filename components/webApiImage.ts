import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig } from "../model/config";
import { supersededImageCleanup } from "./imageCleanup";
import { webApiImageName } from "../model/naming";

/** Build context of the web API, relative to the working directory so the state holds no machine-specific path. */
const IMAGES_DIR = path.relative(process.cwd(), path.resolve(__dirname, "..", "images")) || ".";

/** What a stack adds to a build: its name (the images' `optivolt.stack` label) and the platform to build for. */
export interface StackBuildOptions {
  stackName?: string;
  /** `os/arch`; undefined leaves it to the provider (the machine running `pulumi`). */
  platform?: string;
}

/** How the web API image of one Dockerfile target is built: `images/` with the stack's bases (shared with the swarm's services). */
export function webApiBuild(dockerfileTarget: string, images: ImagesConfig, stack: StackBuildOptions = {}): docker.types.input.DockerBuild {
  return {
    context: IMAGES_DIR,
    dockerfile: path.join(IMAGES_DIR, "Dockerfile"),
    target: dockerfileTarget,
    args: {
      NODE_IMAGE: images.nodeImage,
      NODE_MINIMAL_IMAGE: images.nodeMinimalImage,
      BUN_IMAGE: images.bunImage,
      BUN_MINIMAL_IMAGE: images.bunMinimalImage,
      // Becomes the image's `optivolt.stack` label: what the stack's cleanup finds its builds by.
      ...(stack.stackName === undefined ? {} : { OPTIVOLT_STACK: stack.stackName }),
    },
    network: images.buildNetwork,
    ...(stack.platform === undefined ? {} : { platform: stack.platform }),
  };
}

export interface WebApiImageArgs {
  /** Dockerfile target, e.g. `minimal` or `minimal-bun` (naming.dockerfileTarget). */
  dockerfileTarget: string;
  images: ImagesConfig;
  /** Removes the image's tag on destroy; the image depends on it so it goes last. */
  imageCleanup: pulumi.Resource;
  /** The stack the image's tag and label are scoped to (naming.webApiImageName). */
  stackName: string;
  /** `os/arch` to build for (config, else the engine's); undefined leaves it to the provider. */
  platform: string | undefined;
  /** `docker:host`: the engine superseded builds are removed from. */
  dockerHost: string | undefined;
}

/**
 * One web API image, built from `images/` for one (target, runtime): every variant of that pair
 * runs it, so the lab builds each image once however many budgets share it.
 */
export class WebApiImage extends pulumi.ComponentResource {
  public readonly image: docker.Image;
  /** The local image ID, which changes exactly when the build does. */
  public readonly id: pulumi.Output<string>;
  /** Removes a build once superseded; containers that run the image depend on it (imageCleanup.ts). */
  public readonly supersededCleanup: pulumi.Resource;

  constructor(name: string, args: WebApiImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:WebApiImage", name, {}, opts);
    this.image = new docker.Image(
      name,
      {
        imageName: webApiImageName(args.dockerfileTarget, args.stackName),
        skipPush: true,
        build: webApiBuild(args.dockerfileTarget, args.images, { stackName: args.stackName, platform: args.platform }),
      },
      { parent: this, dependsOn: [args.imageCleanup] },
    );
    this.id = this.image.repoDigest;
    this.supersededCleanup = supersededImageCleanup(args.dockerfileTarget, this.id, args.dockerHost, { parent: this });
    this.registerOutputs({ id: this.id });
  }
}
