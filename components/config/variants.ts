import { z } from "zod";
import { memoryFloorMb } from "./memoryFloor";
import { numeric } from "./numbers";

/** Docker refuses a memory limit below 6 MiB. */
export const DOCKER_MIN_MEMORY_MB = 6;

export const IMAGE_TARGETS = ["standard", "microvm", "minimal"] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

export const hostPortSchema = numeric((n) => n.int().min(1).max(65535));

export const variantSpecSchema = z
  .strictObject({
    target: z.enum(IMAGE_TARGETS),
    cpus: numeric((n) => n.positive()),
    /** At least the target's memory floor (memoryFloor.ts), which is above Docker's minimum. */
    memoryMb: numeric((n) => n.int().positive()),
    hostPort: hostPortSchema,
    /** Worker processes; unset lets the image size them from the container's CPU quota. */
    workers: numeric((n) => n.int().positive()).optional(),
  })
  .superRefine((spec, ctx) => {
    // A budget under the floor is accepted by Docker, then the container restart-loops (exit 137)
    // and `pulumi up` fails only after its health wait: refuse it here instead.
    const floor = memoryFloorMb(spec.target);
    if (spec.memoryMb < floor) {
      ctx.addIssue({
        code: "custom",
        path: ["memoryMb"],
        message:
          `must be at least ${floor} for target ${spec.target}: below that one app process runs out of memory under load ` +
          `(its measured floor, see docs/deploy.md "Memory floors")`,
      });
    }
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
