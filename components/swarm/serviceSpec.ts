// What every service of the swarm lab shares: budgets in the units the engine takes, labels,
// published ports (with the exemption label Swarm's missing bind address calls for).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SwarmConfig } from "../../model/config";
import { PUBLISHED_PORTS_EXEMPTION_LABEL } from "../../model/labels";

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

/**
 * `pulumi up` waits until every task runs (or fails after the timeout), as `docker service create`
 * without --detach. Replicated services only: the provider declares `mode.global` ConflictsWith
 * `converge_config` (terraform-provider-docker v4.5.0, internal/provider/resource_docker_service.go).
 */
export const CONVERGE: docker.types.input.ServiceConvergeConfig = { delay: "5s", timeout: "5m" };

/**
 * Restart on any exit, 5 s apart. `window` is spelled out as the provider reads it back: it sends
 * Window=0 when none is set and reads back "0s", and `window` is Optional, not Computed, so leaving
 * it out is a diff on every `up` (internal/provider/resource_docker_service_structures.go,
 * createRestartPolicy / flattenTaskRestartPolicy).
 */
export const RESTART_POLICY: docker.types.input.ServiceTaskSpecRestartPolicy = { condition: "any", delay: "5s", window: "0s" };

/**
 * `placement.platforms` as the Docker client writes it for an image built for `platform`
 * (`os/arch[/variant]`): ServiceCreate asks the registry (the provider sets QueryRegistry) and
 * stores the image's platforms, the variant dropped and `arm` cleared (moby client/service_create.go,
 * imageDigestAndPlatforms). The provider reads them back and `platforms` is not Computed, so a
 * service that leaves them out differs on its second `up`.
 */
export function placementPlatforms(platform: string): docker.types.input.ServiceTaskSpecPlacementPlatform[] {
  const [os, architecture] = platform.split("/");
  return [{ os, architecture: architecture.toLowerCase() === "arm" ? "" : architecture }];
}

/**
 * For a service whose image the program does not build (its platforms are the registry's, a list
 * for multi-platform images, unknown here): the platforms the client writes at create are the
 * service's own, not a change to undo on the next `up`.
 */
export const PLATFORMS_READ_BACK: Pick<pulumi.CustomResourceOptions, "ignoreChanges"> = { ignoreChanges: ["taskSpec.placement.platforms"] };

/**
 * A configured image (`repo:tag`) named by its registry digest, as the provider's docs advise
 * (`docker_image`'s `repo_digest`): the Docker client rewrites a tag-only image to
 * `repo:tag@sha256:…` at create and the provider reads that back, so a tag alone differs on the
 * next `up`. The image is pulled on the manager (kept there on destroy); an image that exists only
 * there, never pulled, has no repo digest (determineRepoDigest: "") and runs by its name, which
 * the client cannot resolve either and leaves as it is.
 */
export function imageByDigest(name: string, image: string, parent: pulumi.Resource): pulumi.Output<string> {
  const remote = new docker.RemoteImage(name, { name: image, keepLocally: true }, { parent });
  return remote.repoDigest.apply((digest) => (digest === "" ? image : digest));
}

/** Network attachment of a service on the lab's overlay network, found there by `alias`. */
export function onNetwork(network: docker.Network, alias: string): docker.types.input.ServiceTaskSpecNetworksAdvanced[] {
  return [{ id: network.id, aliases: [alias] }];
}

/** Logs bounded like the containers' (json-file, 3 × 10 MB). */
export const LOG_DRIVER: docker.types.input.ServiceTaskSpecLogDriver = { name: "json-file", options: { "max-size": "10m", "max-file": "3" } };

