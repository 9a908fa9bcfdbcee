// What every service of the swarm lab shares: budgets in the units the engine takes, labels,
// published ports (with the exemption label Swarm's missing bind address calls for).
import * as docker from "@pulumi/docker";
import { SwarmConfig } from "../config";

/** The label a service publishing ports must carry; its value says why the nodes' addresses may carry them. */
export const PUBLISHED_PORTS_EXEMPTION_LABEL = "optivolt.policy/published-ports-exemption";

/**
 * A budget as Swarm takes it: limits, and (for variants) reservations equal, so the scheduler only
 * places a variant where its whole budget is free.
 */
export function swarmResources(cpus: number, memoryMb: number, reserve = true): docker.types.input.ServiceTaskSpecResources {
  // memoryMb is MiB, as docker.Container's `memory` is.
  const budget = { nanoCpus: Math.round(cpus * 1e9), memoryBytes: memoryMb * 1024 * 1024 };
  return reserve ? { limits: budget, reservation: budget } : { limits: budget };
}

/**
 * The lab's own services (registry, monitoring) are capped but reserve nothing: a reservation of
 * theirs would take a node's CPUs from the variants (on 2-CPU nodes, `standard` needs a whole node).
 */
export const NO_RESERVATION = false;

/** `{ label, value }` pairs, the provider's spelling of a label map. */
export function labelList(labels: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/**
 * Endpoint of a service publishing `targetPort` on `publishedPort` the way the stack says
 * (host mode on the task's node by default; nothing with `publishMode: none`).
 */
export function endpointSpec(swarm: SwarmConfig, ports: { targetPort: number; publishedPort: number }[]): docker.types.input.ServiceEndpointSpec {
  if (swarm.publishMode === "none") return { mode: swarm.endpointMode };
  return {
    mode: swarm.endpointMode,
    ports: ports.map((port) => ({ ...port, publishMode: swarm.publishMode, protocol: "tcp" })),
  };
}

/** Labels that go with published ports: the stack's reason, for the policy pack. */
export function publishingLabels(swarm: SwarmConfig): Record<string, string> {
  return swarm.publishMode === "none" || swarm.publishedPortsReason === undefined ? {} : { [PUBLISHED_PORTS_EXEMPTION_LABEL]: swarm.publishedPortsReason };
}

/** `pulumi up` waits until every task runs (or fails after the timeout), as `docker service create` without --detach. */
export const CONVERGE: docker.types.input.ServiceConvergeConfig = { delay: "5s", timeout: "5m" };

/** Network attachment of a service on the lab's overlay network, found there by `alias`. */
export function onNetwork(network: docker.Network, alias: string): docker.types.input.ServiceTaskSpecNetworksAdvanced[] {
  return [{ id: network.id, aliases: [alias] }];
}

/** Logs bounded like the containers' (json-file, 3 × 10 MB). */
export const LOG_DRIVER: docker.types.input.ServiceTaskSpecLogDriver = { name: "json-file", options: { "max-size": "10m", "max-file": "3" } };

