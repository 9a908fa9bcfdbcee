import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig, SwarmConfig, VariantSpec } from "../../model/config";
import { placementConstraints, variantScheduling } from "../../model/config/swarm";
import { STACK_LABEL } from "../../model/labels";
import { APP_PORT, APP_SHUTDOWN_TIMEOUT_MS, dockerfileTarget } from "../../model/naming";
import { webApiBuild } from "../webApiImage";
import { healthCheckCommand } from "../webApiVariant";
import { CONVERGE, LOG_DRIVER, PLATFORMS_READ_BACK, RESTART_POLICY, endpointSpec, labelList, onNetwork, placementPlatforms, publishingLabels, swarmResources } from "./serviceSpec";

/** How long the app drains in-flight requests on SIGTERM (its SHUTDOWN_TIMEOUT_MS, set explicitly). */
export const SHUTDOWN_DRAIN_MS = APP_SHUTDOWN_TIMEOUT_MS;
/** Swarm sends SIGKILL after this: the drain plus time to close, so a drain is never cut short. */
export const STOP_GRACE_PERIOD = `${SHUTDOWN_DRAIN_MS / 1000 + 2}s`;

export interface WebApiServiceArgs {
  spec: VariantSpec;
  images: ImagesConfig;
  swarm: SwarmConfig;
  network: docker.Network;
  /** `host:port` of the lab registry every node pulls from. */
  registryAddress: string;
  /** The lab's registry service, when the stack runs one: images are pushed once it runs. */
  registry?: pulumi.Resource;
  /** Host name the URL names (where the task's published port is reached). */
  endpointHost: string;
  serviceName: string;
  stackName: string;
  /** Platform the image builds for (`images.platform`, else the manager engine's own). */
  platform?: string;
}

/** Image name of a web API target in the lab registry. */
export function registryImageName(registryAddress: string, target: string): string {
  return `${registryAddress}/optivolt-webapi:${target}`;
}

/**
 * One variant of the web API as a Swarm service: its image built and pushed to the lab registry,
 * its tasks under the variant's budget (limits and equal reservations) on the nodes the placement allows.
 */
export class WebApiService extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly image: docker.Image;
  public readonly service: docker.Service;

  constructor(name: string, args: WebApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:WebApiService", name, {}, opts);
    const { spec, swarm } = args;
    const { replicas, placement } = variantScheduling(swarm, name);

    this.image = new docker.Image(
      name,
      {
        imageName: registryImageName(args.registryAddress, dockerfileTarget(spec)),
        build: webApiBuild(dockerfileTarget(spec), args.images, { stackName: args.stackName, platform: args.platform }),
        registry: { server: args.registryAddress },
      },
      { parent: this, dependsOn: args.registry === undefined ? [] : [args.registry] },
    );

    const labels = {
      "optivolt.variant": name,
      "optivolt.cpus": String(spec.cpus),
      "optivolt.memory_mb": String(spec.memoryMb),
      [STACK_LABEL]: args.stackName,
      // Prometheus's swarm discovery turns this into the `runtime` label.
      "optivolt.runtime": spec.runtime,
      ...publishingLabels(swarm),
    };
    this.service = new docker.Service(
      name,
      {
        name: args.serviceName,
        labels: labelList(labels),
        mode: { replicated: { replicas } },
        taskSpec: {
          containerSpec: {
            // The registry digest (`host:port/optivolt-webapi@sha256:...`): every node pulls the same bytes.
            image: this.image.repoDigest,
            env: {
              PORT: String(APP_PORT),
              VARIANT: name,
              SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_DRAIN_MS),
              ...(spec.workers === undefined ? {} : { WORKERS: String(spec.workers) }),
            },
            healthcheck: { tests: healthCheckCommand(spec.runtime), interval: "10s", timeout: "5s", startPeriod: "10s", retries: 3 },
            stopGracePeriod: STOP_GRACE_PERIOD,
            labels: labelList(labels),
          },
          resources: swarmResources(spec.cpus, spec.memoryMb),
          // The platform the image is built for is the one Docker records for it (no diff on the next `up`).
          placement: { constraints: placementConstraints(placement), ...(args.platform === undefined ? {} : { platforms: placementPlatforms(args.platform) }) },
          networksAdvanceds: onNetwork(args.network, name),
          restartPolicy: RESTART_POLICY,
          logDriver: LOG_DRIVER,
        },
        endpointSpec: endpointSpec(swarm, [{ targetPort: APP_PORT, publishedPort: spec.hostPort }]),
        // A host-mode port cannot be held by two tasks of one node, so host publishing replaces a task
        // before starting the next; otherwise the new task is healthy before the old one drains.
        updateConfig: {
          parallelism: 1,
          order: swarm.publishMode === "host" ? "stop-first" : "start-first",
          failureAction: "rollback",
          monitor: "15s",
          maxFailureRatio: "0",
        },
        rollbackConfig: { parallelism: 1, order: swarm.publishMode === "host" ? "stop-first" : "start-first", failureAction: "pause", monitor: "15s" },
        convergeConfig: CONVERGE,
      },
      { parent: this, ...(args.platform === undefined ? PLATFORMS_READ_BACK : {}) },
    );

    this.url = pulumi.interpolate`http://${args.endpointHost}:${spec.hostPort}`;
    this.registerOutputs({ url: this.url });
  }
}
