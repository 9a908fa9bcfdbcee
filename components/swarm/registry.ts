import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SwarmConfig } from "../../model/config";
import { STACK_LABEL } from "../../model/labels";
import { CONVERGE, LOG_DRIVER, NO_RESERVATION, PLATFORMS_READ_BACK, RESTART_POLICY, endpointSpec, imageByDigest, labelList, onNetwork, publishingLabels, swarmResources } from "./serviceSpec";

/** Port the registry listens on inside its task (set through the environment, whatever the image's config says). */
export const REGISTRY_INTERNAL_PORT = 5000;
/** Where Debian's docker-registry keeps its data (the image declares it a volume). */
const REGISTRY_DATA_DIR = "/var/lib/docker-registry";

export interface LabRegistryArgs {
  swarm: SwarmConfig;
  /** `host:port` every node reaches the registry at (validated: set on swarm stacks). */
  address: string;
  network: docker.Network;
  /** Prefix of the service's and volume's names (the lab's network name). */
  namePrefix: string;
  stackName: string;
}

/**
 * The lab's image registry: one task on a manager, its port published on that node, so every
 * node pulls the variants' images (pushed there by the program) from `address`. The image is
 * local to the manager (built by `npm run images:base` from Debian's docker-registry). Its port is
 * published like any other: with the stack's stated reason, and only when `publishMode` is not
 * `none` (then the stack runs no registry: see `deploySwarmServices`).
 */
export class LabRegistry extends pulumi.ComponentResource {
  public readonly service: docker.Service;
  /** `host:port` images are pushed to and pulled from. */
  public readonly address: string;

  constructor(name: string, args: LabRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:Registry", name, {}, opts);
    this.address = args.address;
    const publishedPort = Number(args.address.slice(args.address.lastIndexOf(":") + 1));
    const labels = { [STACK_LABEL]: args.stackName, "optivolt.role": "registry", ...publishingLabels(args.swarm) };
    this.service = new docker.Service(
      name,
      {
        name: `${args.namePrefix}-registry`,
        labels: labelList(labels),
        taskSpec: {
          containerSpec: {
            image: imageByDigest(`${name}-image`, args.swarm.registry.image, this),
            env: {
              REGISTRY_HTTP_ADDR: `:${REGISTRY_INTERNAL_PORT}`,
              REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: REGISTRY_DATA_DIR,
            },
            mounts: [{ type: "volume", source: `${args.namePrefix}-registry-data`, target: REGISTRY_DATA_DIR }],
            labels: labelList(labels),
          },
          resources: swarmResources(0.25, 128, NO_RESERVATION),
          // The image exists on the manager only, and the volume must stay on one node.
          placement: { constraints: ["node.role==manager"] },
          networksAdvanceds: onNetwork(args.network, "registry"),
          restartPolicy: RESTART_POLICY,
          logDriver: LOG_DRIVER,
        },
        // The nodes' engines pull through this port, never through the overlay network.
        endpointSpec: endpointSpec(args.swarm, [{ targetPort: REGISTRY_INTERNAL_PORT, publishedPort }]),
        convergeConfig: CONVERGE,
      },
      { parent: this, ...PLATFORMS_READ_BACK },
    );
    this.registerOutputs({ address: this.address });
  }
}
