import { z } from "zod";
import { numeric } from "./numbers";

/** Docker refuses a memory limit below 6 MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

export const IMAGE_TARGETS = ["standard", "microvm", "minimal"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

export const hostPortSchema = numeric((n) => n.int().min(1).max(65535));

export const variantSpecSchema = z.strictObject({
  target: z.enum(IMAGE_TARGETS),
  cpus: numeric((n) => n.positive()),
  memoryMb: numeric((n) => n.int().min(DOCKER_MIN_MEMORY_MB)),
  hostPort: hostPortSchema,
  /** Worker processes; unset lets the image size them from the container's CPU quota. */
  workers: numeric((n) => n.int().positive()).optional(),
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
