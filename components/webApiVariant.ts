import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig, VariantSpec } from "./config";
import { supersededImageCleanup } from "./imageCleanup";
import { APP_PORT, APP_SHUTDOWN_TIMEOUT_MS, webApiImageName } from "./naming";

/** Build context of the web API, relative to the working directory so the state holds no machine-specific path. */
const IMAGES_DIR = path.relative(process.cwd(), path.resolve(__dirname, "..", "images")) || ".";

/** Health probe run inside the container; every image target ships `node` (Node 22 has `fetch`), not curl. */
const HEALTH_PROBE = `fetch('http://127.0.0.1:${APP_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

/** Seconds `pulumi up` waits for a new container to report healthy before it fails the update. */
const HEALTHY_WITHIN_SECONDS = 120;

/**
 * Seconds the provider waits after SIGTERM before it kills a variant on replace or destroy: the
 * app's drain plus a margin for the cluster primary to collect its workers and the process to exit.
 * Without it the provider removes the container with force (SIGKILL) and the drain never runs.
 */
export const WEBAPI_STOP_GRACE_SECONDS = Math.ceil(APP_SHUTDOWN_TIMEOUT_MS / 1000) + 5;

export interface WebApiVariantArgs {
  spec: VariantSpec;
  images: ImagesConfig;
  network: docker.Network;
  bindAddress: string;
  /** Host name the URL names (the bind address, or the remote engine's host). */
  endpointHost: string;
  containerName: string;
  stackName: string;
  /** Removes the image's tag on destroy; the image depends on it so it goes last. */
  imageCleanup: pulumi.Resource;
  /** `docker:host`: the engine the superseded builds are removed from. */
  dockerHost: string | undefined;
  /** `os/arch` to build for; undefined leaves it to the provider (the machine running `pulumi`). */
  platform: string | undefined;
  /** Whether the engine limits swap; without it `memorySwap` stays unset (it would read back as -1 and diff on every `up`). */
  swapLimit: boolean;
}

/** One variant of the web API: its image built from `images/` and its container under the variant's budget. */
export class WebApiVariant extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly image: docker.Image;
  public readonly container: docker.Container;

  constructor(name: string, args: WebApiVariantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:WebApiVariant", name, {}, opts);
    const { spec } = args;

    this.image = new docker.Image(
      name,
      {
        imageName: webApiImageName(spec.target, args.stackName),
        skipPush: true,
        build: {
          context: IMAGES_DIR,
          dockerfile: path.join(IMAGES_DIR, "Dockerfile"),
          target: spec.target,
          // OPTIVOLT_STACK becomes the image's `optivolt.stack` label: what the cleanup finds a stack's builds by.
          args: { NODE_IMAGE: args.images.nodeImage, NODE_MINIMAL_IMAGE: args.images.nodeMinimalImage, OPTIVOLT_STACK: args.stackName },
          network: args.images.buildNetwork,
          platform: args.platform,
        },
      },
      { parent: this, dependsOn: [args.imageCleanup] },
    );
    // The container depends on it, so a replaced build is removed only once its container is gone.
    const superseded = supersededImageCleanup(name, this.image.repoDigest, args.dockerHost, { parent: this });

    this.container = new docker.Container(
      name,
      {
        name: args.containerName,
        // The local image ID: the engine reports the container's image by ID, so a tag here would
        // show a diff (and a replacement) on every `up`; the ID also changes exactly when the build does.
        image: this.image.repoDigest,
        cpus: String(spec.cpus),
        memory: spec.memoryMb,
        // Swap equal to memory means no swap at all: the memory budget is real.
        memorySwap: args.swapLimit ? spec.memoryMb : undefined,
        ports: [{ internal: APP_PORT, external: spec.hostPort, ip: args.bindAddress, protocol: "tcp" }],
        envs: [`PORT=${APP_PORT}`, `VARIANT=${name}`, `SHUTDOWN_TIMEOUT_MS=${APP_SHUTDOWN_TIMEOUT_MS}`, ...(spec.workers === undefined ? [] : [`WORKERS=${spec.workers}`])],
        healthcheck: {
          tests: ["CMD", "node", "-e", HEALTH_PROBE],
          // Go duration spelling as the engine reports it back, so the read-back matches and plans no diff.
          interval: "10s",
          timeout: "5s",
          startPeriod: "10s",
          retries: 3,
        },
        wait: true,
        waitTimeout: HEALTHY_WITHIN_SECONDS,
        restart: "unless-stopped",
        destroyGraceSeconds: WEBAPI_STOP_GRACE_SECONDS,
        labels: [
          { label: "optivolt.variant", value: name },
          { label: "optivolt.cpus", value: String(spec.cpus) },
          { label: "optivolt.memory_mb", value: String(spec.memoryMb) },
          { label: "optivolt.stack", value: args.stackName },
        ],
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        // The provider creates the container on `bridge`, then moves it to networksAdvanced; the engine
        // keeps reporting `bridge`, so saying it here avoids the perpetual "default" → "bridge" diff.
        networkMode: "bridge",
        networksAdvanced: [{ name: args.network.name, aliases: [name] }],
      },
      { parent: this, dependsOn: [superseded] },
    );

    this.url = pulumi.interpolate`http://${args.endpointHost}:${spec.hostPort}`;
    this.registerOutputs({ url: this.url });
  }
}
