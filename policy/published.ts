import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { PolicyResource } from "@pulumi/policy";
import { describe } from "./config";
import { serviceLimits, servicePublishedPorts, serviceReplicas } from "./service";
import { unikernelRunOf } from "./unikernelRun";
import { known, UNKNOWN } from "./values";

/** What one resource asks of the host, as the stack policies see it. */
export interface HostClaim {
  resource: PolicyResource;
  /** `docker.Container "grafana"`, for messages. */
  label: string;
  ports: { ip?: string; hostPort: number; protocol: string }[];
  /** Memory limit in MB (MiB), undefined when none is set or it is not known yet. */
  memoryMb?: number;
}

function unikernelRunOfResource(resource: PolicyResource) {
  const create = known(() => resource.props.create as string | undefined);
  return typeof create === "string" ? unikernelRunOf(create) : undefined;
}

/** Host ports and memory of every container and every unikernel run command (`kraft run`, `qemu.sh start`) in the stack. */
export function hostClaims(resources: readonly PolicyResource[]): HostClaim[] {
  const claims: HostClaim[] = [];
  for (const resource of resources) {
    if (resource.isType(docker.Container)) {
      const ports = known(() => resource.props.ports as docker.types.output.ContainerPort[] | undefined);
      const memory = known(() => resource.props.memory as number | undefined);
      claims.push({
        resource,
        label: describe("docker.Container", resource.name),
        ports: (ports === UNKNOWN ? [] : ports ?? [])
          .filter((p) => typeof p.external === "number")
          .map((p) => ({ ip: p.ip, hostPort: p.external as number, protocol: p.protocol ?? "tcp" })),
        memoryMb: typeof memory === "number" && memory > 0 ? memory : undefined,
      });
    } else if (resource.isType(docker.Service)) {
      // Swarm publishes on every address of a node; its memory counts once per replica.
      const read = known(() => {
        const props = resource.props as Parameters<typeof serviceLimits>[0];
        const { memoryMb } = serviceLimits(props);
        return { ports: servicePublishedPorts(props), memoryMb: memoryMb === undefined ? undefined : memoryMb * serviceReplicas(props) };
      });
      claims.push({
        resource,
        label: describe("docker.Service", resource.name),
        ports: read === UNKNOWN ? [] : read.ports.map((p) => ({ hostPort: p.publishedPort, protocol: p.protocol })),
        memoryMb: read === UNKNOWN ? undefined : read.memoryMb,
      });
    } else if (resource.isType(command.local.Command)) {
      const run = unikernelRunOfResource(resource);
      if (run === undefined) continue;
      claims.push({ resource, label: describe("command.local.Command", resource.name), ports: run.ports, memoryMb: run.memoryMi });
    }
  }
  return claims;
}

const WILDCARDS = new Set([undefined, "", "0.0.0.0", "::", "[::]"]);

/** Two bindings of one port collide unless both name different specific addresses. */
export function addressesOverlap(a: string | undefined, b: string | undefined): boolean {
  return WILDCARDS.has(a) || WILDCARDS.has(b) || a === b;
}
