import { z } from "zod";

/** Docker refuses a memory limit below 6 MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

export const IMAGE_TARGETS = ["standard", "microvm", "minimal"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

export const hostPortSchema = z.number().int().min(1).max(65535);

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

export const variantSpecSchema = z
  .strictObject({
    target: z.enum(IMAGE_TARGETS),
    cpus: z.number().positive(),
    memoryMb: z.number().int().min(DOCKER_MIN_MEMORY_MB),
    hostPort: hostPortSchema,
    /** Worker processes; unset lets the image size them from the container's CPU quota. */
    workers: z.number().int().positive().optional(),
    /** Cores the container may run on (Docker's --cpuset-cpus, e.g. "0" or "0-1"); unset: any core. */
    cpuset: z.string().refine((text) => cpuListCores(text) !== null, 'must be a cpu list such as "0", "0-1" or "0,2"').optional(),
  })
  .refine((spec) => spec.cpuset === undefined || spec.cpus <= (cpuListCores(spec.cpuset)?.length ?? Infinity), {
    message: "cpus must not exceed the number of cores in cpuset (the quota could never be used)",
    path: ["cpus"],
  });

export const variantTableSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "variant names are lower-case letters, digits and dashes"), variantSpecSchema)
  .refine((table) => Object.keys(table).length > 0, "at least one variant is required");

export const imagesSchema = z
  .strictObject({
    /** Base of the standard and microvm targets. */
    nodeImage: z.string().min(1).default("node:22-bookworm-slim"),
    /** Base of the minimal target. */
    nodeMinimalImage: z.string().min(1).default("node:22-bookworm-slim"),
    /** `host` lets `docker build` reach package registries the way the host does (offline labs, CI). */
    buildNetwork: z.enum(["default", "host"]).default("default"),
  })
  .prefault({});

export type VariantSpecInput = z.input<typeof variantSpecSchema>;
