import { z } from "zod";

/** Docker refuses a memory limit below 6 MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

export const IMAGE_TARGETS = ["standard", "microvm", "minimal"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

/** The JavaScript runtime serving the routes: node:http + cluster, or Bun.serve. */
export const RUNTIMES = ["node", "bun"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const hostPortSchema = z.number().int().min(1).max(65535);

export const variantSpecSchema = z.strictObject({
  target: z.enum(IMAGE_TARGETS),
  runtime: z.enum(RUNTIMES, { error: () => `must be one of ${RUNTIMES.join(", ")}` }).default("node"),
  cpus: z.number().positive(),
  memoryMb: z.number().int().min(DOCKER_MIN_MEMORY_MB),
  hostPort: hostPortSchema,
  /** Worker processes; unset lets the image size them from the container's CPU quota. */
  workers: z.number().int().positive().optional(),
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
    /** Base of the standard-bun and microvm-bun targets (needs only `bun`). */
    bunImage: z.string().min(1).default("oven/bun:1-debian"),
    /** Base of the minimal-bun target (needs only `bun`; no shell). */
    bunMinimalImage: z.string().min(1).default("oven/bun:1-distroless"),
    /** `host` lets `docker build` reach package registries the way the host does (offline labs, CI). */
    buildNetwork: z.enum(["default", "host"]).default("default"),
  })
  .prefault({});

export type VariantSpecInput = z.input<typeof variantSpecSchema>;
