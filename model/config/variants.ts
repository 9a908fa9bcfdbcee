import { z } from "zod";
import { MAX_WORKERS } from "../../images/src/limits";
import { numeric } from "./numbers";
import { pinnedImage } from "./pinnedImage";

/** Docker refuses a memory limit below 6 MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

export const IMAGE_TARGETS = ["standard", "microvm", "minimal"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

/** The JavaScript runtime serving the routes: node:http + cluster, or Bun.serve. */
export const RUNTIMES = ["node", "bun"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const hostPortSchema = numeric((n) => n.int().min(1).max(65535));

/**
 * Cores of a Linux cpu list ("0", "0-1", "0,2-3"), sorted and unique; null when the text is not one.
 * Shared by the stack config and the bench, which pins its load generator to the cores left over.
 */
export function cpuListCores(text: string): number[] | null {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) return null;
  const cores = new Set<number>();
  for (const part of text.split(",")) {
    const [from, to = from] = part.split("-").map(Number);
    if (to < from) return null;
    for (let core = from; core <= to; core++) cores.add(core);
  }
  return [...cores].sort((a, b) => a - b);
}

/** Cores a variant may run on (a Linux cpu list); the bench pins its load generator elsewhere. */
export const cpusetSchema = z.string().refine((text) => cpuListCores(text) !== null, 'must be a cpu list such as "0", "0-1" or "0,2"');

export const variantSpecSchema = z
  .strictObject({
    /** A container (the default); `microvm` variants follow microvm.ts's schema instead. */
    isolation: z.literal("container").default("container"),
    target: z.enum(IMAGE_TARGETS),
    runtime: z.enum(RUNTIMES, { error: () => `must be one of ${RUNTIMES.join(", ")}` }).default("node"),
    cpus: numeric((n) => n.positive()),
    /** At least the target's memory floor (MEMORY_FLOORS_MB below), which is above Docker's minimum. */
    memoryMb: numeric((n) => n.int().positive()),
    hostPort: hostPortSchema,
    /** Worker processes; unset lets the image size them from the container's CPU quota. */
    workers: numeric((n) => n.int().positive().max(MAX_WORKERS, `must be at most ${MAX_WORKERS} (the web API refuses more at start)`)).optional(),
    /** Cores the container may run on (Docker's --cpuset-cpus, e.g. "0" or "0-1"); unset: any core. */
    cpuset: cpusetSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    // A budget under the floor is accepted by Docker, then the container restart-loops (exit 137)
    // and `pulumi up` fails only after its health wait: refuse it here instead.
    const floor = memoryFloorMb(spec.target, spec.runtime);
    if (spec.memoryMb < floor) {
      ctx.addIssue({
        code: "custom",
        path: ["memoryMb"],
        message:
          `must be at least ${floor} for target ${spec.target} on ${spec.runtime}: below that one app process runs out of memory under load ` +
          `(its measured floor, see docs/deploy.md "Memory floors")`,
      });
    }
    if (spec.cpuset !== undefined && spec.cpus > (cpuListCores(spec.cpuset)?.length ?? Infinity)) {
      ctx.addIssue({ code: "custom", path: ["cpus"], message: "cpus must not exceed the number of cores in cpuset (the quota could never be used)" });
    }
  });

export const imagesSchema = z
  .strictObject({
    /** Base of the standard and microvm targets. */
    nodeImage: pinnedImage.default("node:22-bookworm-slim"),
    /** Base of the minimal target. */
    nodeMinimalImage: pinnedImage.default("node:22-bookworm-slim"),
    /** Base of the standard-bun and microvm-bun targets (needs only `bun`). */
    bunImage: pinnedImage.default("oven/bun:1-debian"),
    /** Base of the minimal-bun target (needs only `bun`; no shell). */
    bunMinimalImage: pinnedImage.default("oven/bun:1-distroless"),
    /** `host` lets `docker build` reach package registries the way the host does (offline labs, CI). */
    buildNetwork: z.enum(["default", "host"]).default("default"),
    /**
     * `os/arch` the web API images build for (`docker build --platform`). Unset: the engine's own,
     * which the preflight reads; the provider alone would build for the machine running `pulumi`.
     */
    platform: z
      .string()
      .regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, "must be an os/arch platform such as linux/amd64 or linux/arm64")
      .optional(),
  })
  .prefault({});

export type VariantSpecInput = z.input<typeof variantSpecSchema>;

/**
 * The least memory, in MB, a variant of each image target can run in: the peak resident set of one
 * app process (1 CPU of quota, so no cluster primary) under 10 s of mixed /api/light + /api/heavy
 * load, plus headroom for the kernel's own accounting and GC timing. Measured on the real engine by
 * tests/integration/memoryFloor.test.ts, which also runs each target *at* its floor under the same
 * load and fails on an OOM kill or an error; docs/deploy.md gives the figures.
 *
 * Keyed by runtime, then image target: a runtime whose images differ (Bun) adds its own row.
 * A variant with more CPUs runs more worker processes and needs more than this floor; the floor
 * only refuses budgets no variant of the target can live in.
 */
export const MEMORY_FLOORS_MB: Record<Runtime, Record<ImageTarget, number>> = {
  // Peak resident sets measured (docs/deploy.md): Node 63-69 MiB, Bun 49-51 MiB for each target;
  // + ~25 %, to a multiple of 8.
  node: { standard: 88, microvm: 88, minimal: 88 },
  bun: { standard: 64, microvm: 64, minimal: 64 },
};

/** The memory floor of a target on a runtime, in MB. */
export function memoryFloorMb(target: ImageTarget, runtime: Runtime = "node"): number {
  return MEMORY_FLOORS_MB[runtime][target];
}
