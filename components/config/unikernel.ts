import { z } from "zod";
import { hostPortSchema } from "./variants";

export const unikernelSchema = z
  .strictObject({
    /** `auto` deploys the unikernel only when `kraft` is on the PATH. */
    enabled: z.union([z.boolean(), z.literal("auto")]).default("auto"),
    platform: z.enum(["qemu", "fc", "xen"]).default("qemu"),
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    cpus: z.number().int().positive().default(1),
    memoryMi: z.number().int().positive().default(256),
    hostPort: hostPortSchema.default(8004),
    /** `user`: QEMU user networking with port forwarding (simple, slow); `bridge`: a kraft network (fast, needs root). */
    network: z.enum(["user", "bridge"]).default("user"),
    healthTimeoutSeconds: z.number().int().positive().default(120),
  })
  .prefault({});
