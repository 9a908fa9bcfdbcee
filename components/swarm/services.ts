import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../../model/config";
import { STACK_LABEL } from "../../model/labels";
import { variantContainerName } from "../../model/naming";
import { NodesOutput } from "../stackOutputs";
import { LabRegistry } from "./registry";
import { WebApiService } from "./webApiService";

/** A swarm node as the manager reports it (`docker node inspect`). */
export interface SwarmNode {
  hostname: string;
  role: "manager" | "worker";
  labels: Record<string, string>;
  /** The node's address in the swarm (`Status.Addr`). */
  address?: string;
  /** What the node offers the scheduler (`Description.Resources`): CPUs and MiB. */
  capacity?: { cpus: number; memoryMb: number };
}

export function nodesOutput(nodes: readonly SwarmNode[]): NodesOutput {
  return Object.fromEntries(nodes.map((node) => [node.hostname, { role: node.role, labels: node.labels }]));
}

export interface SwarmLab {
  network: docker.Network;
  /** The lab's registry; none with `publishMode: none` (nothing published: `registry.address` is one the user runs). */
  registry?: LabRegistry;
  services: Record<string, WebApiService>;
}

/**
 * The swarm side of the lab: one attachable overlay network, the registry on a manager (unless nothing is published), and one
 * WebApiService per variant. Monitoring is added by the caller.
 */
export function deploySwarmServices(
  config: LabConfig,
  opts: Pick<pulumi.CustomResourceOptions, "provider"> & { platform?: string } = {},
): SwarmLab {
  // Validated on swarm stacks (config/swarm.ts): the address is set.
  const registryAddress = config.swarm.registry.address as string;
  const providers = opts.provider ? [opts.provider] : undefined;
  const network = new docker.Network(
    "lab",
    {
      name: config.networkName,
      driver: "overlay",
      // Attachable: the bench's one-shot load generator and test containers join it too.
      attachable: true,
      labels: [{ label: STACK_LABEL, value: config.stackName }],
    },
    { provider: opts.provider },
  );
  // The nodes' engines reach a registry only through a published port: with nothing published, the
  // images go to the registry the stack names, run by its user.
  const registry =
    config.swarm.publishMode === "none"
      ? undefined
      : new LabRegistry("registry", { swarm: config.swarm, address: registryAddress, network, namePrefix: config.networkName, stackName: config.stackName }, { providers });
  const services: Record<string, WebApiService> = {};
  for (const [name, spec] of Object.entries(config.variants)) {
    services[name] = new WebApiService(
      name,
      {
        spec,
        images: config.images,
        swarm: config.swarm,
        network,
        registryAddress,
        registry: registry?.service,
        endpointHost: config.endpointHost,
        serviceName: variantContainerName(config, name),
        stackName: config.stackName,
        platform: opts.platform,
      },
      { providers },
    );
  }
  return { network, registry, services };
}
