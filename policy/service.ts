// How the policies read a docker.Service (a Swarm service): its task's container spec, budget,
// published ports and labels, in the shapes the container rules already check.
import * as docker from "@pulumi/docker";
import { labelValue, positiveNumber } from "./values";

type ServiceArgs = docker.ServiceArgs;
type Unwrapped = { [K in keyof ServiceArgs]: any };

/** The task's container spec (image, mounts, capabilities, labels). */
export function containerSpecOf(service: Unwrapped): docker.types.output.ServiceTaskSpecContainerSpec | undefined {
  return service.taskSpec?.containerSpec;
}

/** The task's CPU limit in cores and memory limit in MiB, when set and positive. */
export function serviceLimits(service: Unwrapped): { cpus?: number; memoryMb?: number } {
  const limits = service.taskSpec?.resources?.limits as docker.types.output.ServiceTaskSpecResourcesLimits | undefined;
  const nanoCpus = positiveNumber(limits?.nanoCpus);
  const memoryBytes = positiveNumber(limits?.memoryBytes);
  return {
    cpus: nanoCpus === undefined ? undefined : nanoCpus / 1e9,
    memoryMb: memoryBytes === undefined ? undefined : memoryBytes / (1024 * 1024),
  };
}

/** Ports the service publishes on its nodes (Swarm has no bind address: every address of the node). */
export function servicePublishedPorts(service: Unwrapped): { publishedPort: number; protocol: string; publishMode: string }[] {
  const ports = (service.endpointSpec?.ports ?? []) as docker.types.output.ServiceEndpointSpecPort[];
  return ports
    .filter((port) => typeof port.publishedPort === "number" && port.publishedPort > 0)
    .map((port) => ({ publishedPort: port.publishedPort as number, protocol: port.protocol ?? "tcp", publishMode: port.publishMode ?? "ingress" }));
}

/** A label of the service or of its task's container (either carries an exemption). */
export function serviceLabel(service: Unwrapped, name: string): string | undefined {
  return labelValue(service.labels, name) ?? labelValue(containerSpecOf(service)?.labels, name);
}

/** Tasks the service runs, for budgets: its replicas (a global service counts once per node, so 1 here). */
export function serviceReplicas(service: Unwrapped): number {
  return positiveNumber(service.mode?.replicated?.replicas) ?? 1;
}
