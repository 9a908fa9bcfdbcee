// Checks of a swarm stack against the swarm itself, before anything is created: the variants'
// placement keeps them off the load generator's node, and the nodes can pull from the lab registry.
import * as net from "net";
import { LabConfig } from "../../model/config";
import { LOADGEN_ROLE, Placement, variantScheduling } from "../../model/config/swarm";
import { SwarmNode } from "./services";
import { isLoopbackHost } from "../../tooling/loopback";

/** Which plain-HTTP registries an engine trusts (`docker info`'s RegistryConfig). */
export interface RegistryTrust {
  /** `--insecure-registry` CIDRs, e.g. 172.30.0.0/16 (Docker always adds 127.0.0.0/8). */
  insecureCidrs: string[];
  /** `--insecure-registry` names, as `host:port` or `host`. */
  insecureRegistries: string[];
}

/** What the swarm preflight asks of the manager; tests pass fakes. */
export interface SwarmProbes {
  /** Every node of the swarm; rejects when the engine is no swarm manager. */
  nodes(dockerHost: string | undefined): Promise<SwarmNode[]>;
  registryTrust(dockerHost: string | undefined): Promise<RegistryTrust>;
}

function matches(node: SwarmNode, placement: Placement): boolean {
  if (placement.node !== undefined && node.hostname !== placement.node) return false;
  return Object.entries(placement.labels ?? {}).every(([key, value]) => node.labels[key] === value);
}

const isLoadgen = (node: SwarmNode) => node.labels[LOADGEN_ROLE.label] === LOADGEN_ROLE.value;

/** A variant whose placement allows the load generator's node, or no node at all. */
export function placementProblems(config: Pick<LabConfig, "variants" | "swarm" | "stackName">, nodes: readonly SwarmNode[]): string[] {
  const problems: string[] = [];
  const labelled = `${LOADGEN_ROLE.label}=${LOADGEN_ROLE.value}`;
  for (const name of Object.keys(config.variants)) {
    const { placement } = variantScheduling(config.swarm, name);
    const where = config.swarm.variants[name]?.placement === undefined ? "optivolt:swarm.placement" : `optivolt:swarm.variants.${name}.placement`;
    const allowed = nodes.filter((node) => matches(node, placement));
    const loadgen = allowed.filter(isLoadgen);
    if (loadgen.length > 0) {
      problems.push(
        `variant ${name} could be placed on ${loadgen.map((n) => n.hostname).join(", ")}, labelled ${labelled} for the load generator, ` +
          `which would then share its CPUs; narrow ${where} (e.g. labels: { ${LOADGEN_ROLE.label}: lab }) in Pulumi.${config.stackName}.yaml`,
      );
    } else if (allowed.length === 0) {
      problems.push(
        `no node matches ${where} of variant ${name} (nodes: ${nodes.map((n) => `${n.hostname} ${JSON.stringify(n.labels)}`).join(", ")}), ` +
          `so its tasks would wait forever; label a node (\`docker node update --label-add ${LOADGEN_ROLE.label}=lab NODE\`) or change the placement`,
      );
    }
  }
  return problems;
}

function trusted(host: string, address: string, managerAddress: string | undefined, trust: RegistryTrust): boolean {
  if (trust.insecureRegistries.includes(address) || trust.insecureRegistries.includes(host)) return true;
  const ip = net.isIPv4(host) ? host : managerAddress;
  if (ip === undefined || !net.isIPv4(ip)) return false;
  const cidrs = new net.BlockList();
  for (const cidr of trust.insecureCidrs) {
    const [base, prefix] = cidr.split("/");
    if (net.isIPv4(base)) cidrs.addSubnet(base, Number(prefix ?? 32), "ipv4");
  }
  return cidrs.check(ip, "ipv4");
}

/**
 * A registry address the nodes cannot pull from: the manager's loopback on a multi-node swarm, an
 * address that is not the manager the registry task runs on, or a plain-HTTP registry the engines
 * do not trust. With `publishMode: none` the stack runs no registry, so only the loopback is refused.
 */
export function registryProblems(config: Pick<LabConfig, "swarm" | "stackName">, nodes: readonly SwarmNode[], trust: RegistryTrust): string[] {
  const address = config.swarm.registry.address as string;
  const host = address.slice(0, address.lastIndexOf(":"));
  const key = `optivolt:swarm.registry.address ${address}`;
  const managers = nodes.filter((node) => node.role === "manager");
  const managerList = managers.map((m) => `${m.hostname}${m.address ? ` (${m.address})` : ""}`).join(", ") || "none";
  if (isLoopbackHost(host)) {
    if (nodes.length <= 1) return [];
    const others = nodes.filter((node) => node.role !== "manager").map((node) => node.hostname);
    return [`${key} is the manager's loopback: ${others.join(", ")} cannot pull from it; use the manager's name or address as the nodes reach it (managers: ${managerList})`];
  }
  // With nothing published the stack runs no registry: the address is the user's own, wherever it runs.
  if (config.swarm.publishMode === "none") return [];
  const manager = managers.find((m) => m.hostname.toLowerCase() === host.toLowerCase() || m.address === host);
  if (manager === undefined) {
    return [`${key} names no manager, but the registry task runs on a manager, so the nodes would pull from elsewhere; use one of ${managerList} with the port`];
  }
  if (!trusted(host, address, manager.address, trust)) {
    return [
      `${key} serves plain HTTP, which the manager's engine does not trust, so the push and the nodes' pulls would fail; ` +
        `start every node's dockerd with --insecure-registry ${address} (or a CIDR holding ${manager.address ?? host}), as \`npm run swarm:lab\` does`,
    ];
  }
  return [];
}

/** Every swarm problem at once; resolves with the nodes for the `nodes` output. */
export async function swarmPreflight(
  config: LabConfig,
  probes: SwarmProbes,
): Promise<{ nodes: SwarmNode[]; problems: string[] }> {
  let nodes: SwarmNode[];
  try {
    nodes = await probes.nodes(config.dockerHost);
  } catch (error) {
    const detail = error instanceof Error ? error.message.trim() : String(error);
    return {
      nodes: [],
      problems: [
        `optivolt:engine is swarm, but the engine at docker:host lists no swarm nodes (${detail}); point docker:host at a swarm manager ` +
          "(`npm run swarm:lab -- up` prints one) or run `docker swarm init` there",
      ],
    };
  }
  const trust = await probes.registryTrust(config.dockerHost);
  return { nodes, problems: [...placementProblems(config, nodes), ...capacityProblems(config, nodes), ...registryProblems(config, nodes, trust)] };
}

/**
 * A variant whose reservation (its whole budget) no node it may run on can hold, or variants on the
 * same nodes whose CPU reservations add up to more than those nodes have: tasks would stay pending.
 * (How the scheduler packs them is its own; this catches what can never fit.)
 */
export function capacityProblems(config: Pick<LabConfig, "variants" | "swarm" | "stackName">, nodes: readonly SwarmNode[]): string[] {
  const problems: string[] = [];
  const demand = new Map<string, { nodes: SwarmNode[]; cpus: number; variants: string[] }>();
  for (const [name, spec] of Object.entries(config.variants)) {
    const { replicas, placement } = variantScheduling(config.swarm, name);
    const allowed = nodes.filter((node) => node.capacity !== undefined && matches(node, placement) && !isLoadgen(node));
    if (allowed.length === 0) continue; // no such node (placementProblems says so), or no capacity reported
    const offers = (node: SwarmNode) => node.capacity as { cpus: number; memoryMb: number };
    if (!allowed.some((node) => offers(node).cpus >= spec.cpus && offers(node).memoryMb >= spec.memoryMb)) {
      const sizes = allowed.map((n) => `${n.hostname} ${offers(n).cpus} CPUs / ${offers(n).memoryMb} MB`).join(", ");
      problems.push(
        `variant ${name} reserves ${spec.cpus} CPUs and ${spec.memoryMb} MB, more than any node it may run on offers (${sizes}), ` +
          `so its task would stay pending; lower its budget in Pulumi.${config.stackName}.yaml or allow bigger nodes`,
      );
      continue;
    }
    const key = allowed.map((n) => n.hostname).join(",");
    const group = demand.get(key) ?? { nodes: allowed, cpus: 0, variants: [] };
    demand.set(key, { ...group, cpus: group.cpus + spec.cpus * replicas, variants: [...group.variants, name] });
  }
  for (const group of demand.values()) {
    const offered = group.nodes.reduce((sum, node) => sum + (node.capacity?.cpus ?? 0), 0);
    if (group.cpus > offered + 1e-9) {
      problems.push(
        `variants ${group.variants.join(", ")} reserve ${group.cpus} CPUs in all, more than their nodes offer ` +
          `(${group.nodes.map((n) => n.hostname).join(", ")}: ${offered} CPUs), so some tasks would stay pending; ` +
          `lower their cpus in Pulumi.${config.stackName}.yaml or add nodes labelled for the lab`,
      );
    }
  }
  return problems;
}

/** Parses `docker node inspect` JSON (an array of nodes). */
export function parseNodes(inspectJson: string): SwarmNode[] {
  const nodes = JSON.parse(inspectJson) as {
    Spec?: { Role?: string; Labels?: Record<string, string> };
    Status?: { Addr?: string };
    Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
  }[];
  return nodes.map((node) => ({
    hostname: node.Description?.Hostname ?? "",
    role: node.Spec?.Role === "manager" ? "manager" : "worker",
    labels: node.Spec?.Labels ?? {},
    ...(node.Status?.Addr ? { address: node.Status.Addr } : {}),
    ...(node.Description?.Resources?.NanoCPUs
      ? { capacity: { cpus: node.Description.Resources.NanoCPUs / 1e9, memoryMb: Math.floor((node.Description.Resources.MemoryBytes ?? 0) / (1024 * 1024)) } }
      : {}),
  }));
}

/** Parses `docker info --format '{{json .RegistryConfig}}'`. */
export function parseRegistryTrust(registryConfigJson: string): RegistryTrust {
  const config = JSON.parse(registryConfigJson) as {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name?: string; Secure?: boolean }> | null;
  };
  return {
    insecureCidrs: config.InsecureRegistryCIDRs ?? [],
    insecureRegistries: Object.values(config.IndexConfigs ?? {})
      .filter((index) => index.Secure === false && index.Name !== undefined)
      .map((index) => index.Name as string),
  };
}
