import { z } from "zod";

/** Where the lab's variants run: containers on one engine, or services on a Docker Swarm. */
export const ENGINES = ["docker", "swarm"] as const;
export type Engine = (typeof ENGINES)[number];

/** The node label that marks the load generator's node; no variant may be placed there. */
export const LOADGEN_ROLE = { label: "optivolt.role", value: "loadgen" } as const;

/** Docker node labels are `key=value`; keys such as `optivolt.role` become `node.labels.optivolt.role`. */
const nodeLabelKey = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.\/-]*$/, "must be a node label key such as optivolt.role");
const nodeLabelValue = z.string().regex(/^[a-zA-Z0-9_.\/-]+$/, "must be letters, digits, '.', '_', '-' or '/'");

/** Which nodes a service's tasks may run on: every label must match, and the hostname when given. */
export const placementSchema = z.strictObject({
  /** A node's hostname (`docker node ls`), to pin the tasks to one node. */
  node: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "must be a node hostname as `docker node ls` shows it").optional(),
  labels: z
    .record(nodeLabelKey, nodeLabelValue)
    .refine((labels) => labels[LOADGEN_ROLE.label] !== LOADGEN_ROLE.value, {
      message: `${LOADGEN_ROLE.label}=${LOADGEN_ROLE.value} marks the load generator's node, where no variant may run; use ${LOADGEN_ROLE.label}: lab`,
    })
    .optional(),
});
export type Placement = z.output<typeof placementSchema>;

/** Default placement: the nodes the lab script labels for variants. */
export const DEFAULT_PLACEMENT: Placement = { labels: { [LOADGEN_ROLE.label]: "lab" } };

/** An image reference with a version tag or digest (the registry image is local, so never `latest`). */
const pinnedLocalImage = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\/-]*(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$/, "must be an image with a version tag or a digest")
  .refine((ref) => !ref.endsWith(":latest"), "must not use the `latest` tag");

const registryAddress = z
  .string()
  .regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, "must be host:port as every node reaches the registry, e.g. 10.0.0.1:5000");

export const swarmSchema = z
  .strictObject({
    /** Tasks per variant. */
    replicas: z.number().int().min(1).default(1),
    /** Placement of every variant (its nodes), unless the variant has its own under `variants`. */
    placement: placementSchema.default(DEFAULT_PLACEMENT),
    /** Per-variant overrides: `swarm.variants.minimal.placement.node: node-2`. */
    variants: z
      .record(z.string(), z.strictObject({ replicas: z.number().int().min(1).optional(), placement: placementSchema.optional() }))
      .default({}),
    /**
     * `host` publishes each port on the node that runs the task (works without IPVS); `ingress` uses
     * the routing mesh (every node, needs IPVS); `none` publishes nothing (reach tasks on the overlay network).
     */
    publishMode: z.enum(["host", "ingress", "none"]).default("host"),
    /** `dnsrr`: DNS returns the tasks' addresses; `vip`: one virtual IP per service (needs IPVS). */
    endpointMode: z.enum(["dnsrr", "vip"]).default("dnsrr"),
    /**
     * Swarm publishes a port on every address of a node (there is no bind address), so publishing
     * needs a stated reason; it becomes the services' policy exemption label.
     */
    publishedPortsReason: z.string().trim().min(10, "must say in a sentence why the nodes' addresses may carry the lab's ports").optional(),
    registry: z
      .strictObject({
        /** The registry image `npm run images:base` builds from Debian's docker-registry (local to the manager). */
        image: pinnedLocalImage.default("optivolt/registry:2.8"),
        /** `host:port` every node (and the manager's engine, which pushes) reaches the registry at. */
        address: registryAddress.optional(),
      })
      .prefault({}),
  })
  .prefault({});

export type SwarmConfig = z.output<typeof swarmSchema>;

/**
 * Cross-field checks of a swarm stack, as `[path, message]` pairs for the config's one error list.
 * Ports published in ingress mode need the service VIP; a registry address and a publishing reason are required.
 */
export function swarmIssues(swarm: SwarmConfig, variantNames: readonly string[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (swarm.publishMode === "ingress" && swarm.endpointMode === "dnsrr") {
    issues.push({ path: ["swarm", "endpointMode"], message: "ingress publishing needs the `vip` endpoint mode (Docker refuses dnsrr with ingress ports); set it to vip or publishMode to host" });
  }
  if (swarm.publishMode !== "none" && swarm.publishedPortsReason === undefined) {
    issues.push({
      path: ["swarm", "publishedPortsReason"],
      message:
        "Swarm publishes ports on every address of a node (it has no bind address); say why that is acceptable here " +
        "(e.g. \"the nodes are on a private network\") or set swarm.publishMode to none",
    });
  }
  if (swarm.registry.address === undefined) {
    issues.push({ path: ["swarm", "registry", "address"], message: "every node pulls the variants' images from the lab's registry; set host:port of the manager as the nodes reach it" });
  }
  if (swarm.publishMode === "host") {
    for (const name of variantNames) {
      const { replicas, placement } = variantScheduling(swarm, name);
      if (replicas > 1 && placement.node !== undefined) {
        issues.push({ path: ["swarm", "variants", name, "replicas"], message: `${replicas} tasks on the one node ${placement.node} cannot share its host-mode port; use 1, more nodes, or publishMode ingress` });
      }
    }
  }
  for (const name of Object.keys(swarm.variants)) {
    if (!variantNames.includes(name)) issues.push({ path: ["swarm", "variants", name], message: `names no variant; use one of ${variantNames.join(", ")}` });
  }
  return issues;
}

/** Placement and replicas of one variant: its own, else the stack's. */
export function variantScheduling(swarm: SwarmConfig, variant: string): { replicas: number; placement: Placement } {
  const own = swarm.variants[variant];
  return { replicas: own?.replicas ?? swarm.replicas, placement: own?.placement ?? swarm.placement };
}

/** Swarm placement constraints of a placement: `node.hostname==...`, `node.labels.k==v`. */
export function placementConstraints(placement: Placement): string[] {
  const constraints = placement.node === undefined ? [] : [`node.hostname==${placement.node}`];
  for (const [key, value] of Object.entries(placement.labels ?? {})) constraints.push(`node.labels.${key}==${value}`);
  return constraints;
}
