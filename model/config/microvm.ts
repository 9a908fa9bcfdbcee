import { z } from "zod";
import { numeric } from "./numbers";
import { cpuListCores, cpusetSchema, hostPortSchema } from "./variants";

/** How a variant is isolated: a Docker container, or a Linux guest on QEMU's microvm machine (microvm/). */
export const ISOLATIONS = ["container", "microvm"] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export const MICROVM_ACCELS = ["auto", "kvm", "tcg"] as const;

/**
 * The micro-VM's memory floor, in MiB: the smallest guest RAM, in 32 MiB steps from 96 to 256, that
 * booted from its squashfs disk and took the bench's load (10 s /api/light, then 30 s /api/heavy,
 * 50 connections) with no error and the guest alive, under TCG on the lab's 2-core VM
 * (`npm run vm:targets -- --stack ci --boots 1 --floor`: 256, 160 and 128 MiB serve; 96 MiB boots
 * but answers no request under load). Nothing smaller is accepted (docs/microvm.md "Memory floor").
 */
export const MICROVM_MEMORY_FLOOR_MB = 128;
const FLOOR_SOURCE = "the smallest guest RAM that served the bench's load, searched by `npm run vm:targets -- --floor`, docs/microvm.md \"Memory floor\"";

/** A `.deb` file (relative to the project root) or a package name apt can download. */
const packageSchema = z
  .string()
  .regex(/^([a-z0-9][a-z0-9+.-]+|.+\.deb)$/, "must be a Debian package name such as linux-image-cloud-amd64, or a path to a .deb file");

export const microvmSpecSchema = z
  .strictObject({
    isolation: z.literal("microvm"),
    /** Whole vCPUs (QEMU's -smp). */
    cpus: numeric((n) => n.int("must be a whole number of vCPUs (QEMU's -smp)").positive()),
    /** Guest RAM in MiB (QEMU's -m). */
    memoryMb: numeric((n) => n.int().min(MICROVM_MEMORY_FLOOR_MB, `must be at least ${MICROVM_MEMORY_FLOOR_MB} MiB, the micro-VM's memory floor (${FLOOR_SOURCE})`)),
    hostPort: hostPortSchema,
    /** Cores QEMU may run on (`taskset -c`); unset: any core. */
    cpuset: cpusetSchema.optional(),
    /** `auto`: KVM only when a probe boot under KVM reaches the guest's init, else TCG emulation. */
    accel: z.enum(MICROVM_ACCELS).default("auto"),
    /** The Debian kernel package: apt's name (the current one is downloaded, its version recorded) or a .deb path. */
    kernelPackage: packageSchema.default("linux-image-cloud-amd64"),
    /** The init's toolbox: busybox-static from apt, or a .deb path. */
    busyboxPackage: packageSchema.default("busybox-static"),
    /** QEMU's translation cache under TCG, in MiB (counted in QEMU's memory, not the guest's). */
    tcgCacheMi: numeric((n) => n.int().min(8).max(1024)).default(32),
    /** How long the run step waits for GET /health before it stops the guest and fails. */
    healthTimeoutSeconds: numeric((n) => n.int().positive().max(1800)).default(120),
  })
  .superRefine((spec, ctx) => {
    if (spec.cpuset !== undefined && spec.cpus > (cpuListCores(spec.cpuset)?.length ?? Infinity)) {
      ctx.addIssue({ code: "custom", path: ["cpus"], message: "cpus must not exceed the number of cores in cpuset (a vCPU would share a core)" });
    }
  });

export type MicrovmSpec = z.output<typeof microvmSpecSchema>;
