import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Runtime, VariantSpec } from "../model/config";
import { STACK_LABEL } from "../model/labels";
import { APP_PORT, APP_SHUTDOWN_TIMEOUT_MS } from "../model/naming";
import type { WebApiImage } from "./webApiImage";

/**
 * Health probe run inside the container by the image's own runtime (`node -e` or `bun -e`; both have
 * `fetch`): the images ship no curl, and the Bun ones no node.
 */
export const HEALTH_PROBE = `fetch('http://127.0.0.1:${APP_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

/** The container health check's command for a runtime. */
export function healthCheckCommand(runtime: Runtime): string[] {
  return ["CMD", runtime, "-e", HEALTH_PROBE];
}

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
  /** The image of the variant's (target, runtime), built once for every variant that runs it. */
  image: Pick<WebApiImage, "id" | "supersededCleanup">;
  network: docker.Network;
  bindAddress: string;
  /** Host name the URL names (the bind address, or the remote engine's host). */
  endpointHost: string;
  containerName: string;
  stackName: string;
  /** Whether the engine limits swap; without it `memorySwap` stays unset (it would read back as -1 and diff on every `up`). */
  swapLimit: boolean;
}

/** One variant of the web API: its container, running its (target, runtime) image under the variant's budget. */
export class WebApiVariant extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly container: docker.Container;

  constructor(name: string, args: WebApiVariantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:WebApiVariant", name, {}, opts);
    const { spec } = args;

    this.container = new docker.Container(
      name,
      {
        name: args.containerName,
        // The local image ID: the engine reports the container's image by ID, so a tag here would
        // show a diff (and a replacement) on every `up`; the ID also changes exactly when the build does.
        image: args.image.id,
        cpus: String(spec.cpus),
        memory: spec.memoryMb,
        ...(spec.cpuset === undefined ? {} : { cpuSet: spec.cpuset }),
        // Swap equal to memory means no swap at all: the memory budget is real.
        memorySwap: args.swapLimit ? spec.memoryMb : undefined,
        ports: [{ internal: APP_PORT, external: spec.hostPort, ip: args.bindAddress, protocol: "tcp" }],
        envs: [`PORT=${APP_PORT}`, `VARIANT=${name}`, `SHUTDOWN_TIMEOUT_MS=${APP_SHUTDOWN_TIMEOUT_MS}`, ...(spec.workers === undefined ? [] : [`WORKERS=${spec.workers}`])],
        healthcheck: {
          tests: healthCheckCommand(spec.runtime),
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
          { label: "optivolt.runtime", value: spec.runtime },
          { label: "optivolt.cpus", value: String(spec.cpus) },
          { label: "optivolt.memory_mb", value: String(spec.memoryMb) },
          { label: STACK_LABEL, value: args.stackName },
        ],
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        // The provider creates the container on `bridge`, then moves it to networksAdvanced; the engine
        // keeps reporting `bridge`, so saying it here avoids the perpetual "default" → "bridge" diff.
        networkMode: "bridge",
        networksAdvanced: [{ name: args.network.name, aliases: [name] }],
      },
      // The image's superseded-build cleanup goes after this container: a replaced build is removed once no container runs it.
      { parent: this, dependsOn: [args.image.supersededCleanup] },
    );

    this.url = pulumi.interpolate`http://${args.endpointHost}:${spec.hostPort}`;
    this.registerOutputs({ url: this.url });
  }
}
