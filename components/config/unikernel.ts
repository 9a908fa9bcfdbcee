import { z } from "zod";
import { numeric } from "./numbers";
import { hostPortSchema } from "./variants";

/**
 * Default guest memory of the unikernel, in MiB. Not a guess: the payload's floor measured by
 * tests/integration/unikernel.test.ts plus what Unikraft's ELF loader holds beside it (the
 * initramfs CPIO and its ramfs copy of the root file system, the kernel and its allocator).
 * README, "The unikernel variant", gives the figures.
 */
export const UNIKERNEL_DEFAULT_MEMORY_MI = 384;

const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, "must be an IPv4 address such as 172.44.0.2");

/** A kraft bridge network this stack creates and removes (used when `network: bridge`). */
const bridgeSchema = z
  .strictObject({
    /** Name of the kraft network (a Linux bridge); the stack owns it, so pick one no one else uses. */
    name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/, "must be a short interface name such as optivolt0").default("optivolt0"),
    /** Host side of the bridge, the guest's gateway. */
    gateway: ipv4.default("172.44.0.1"),
    prefixLength: numeric((n) => n.int().min(8).max(30)).default(24),
    /** The unikernel's own address on the bridge; its URL is http://<ip>:8000. */
    ip: ipv4.default("172.44.0.2"),
  })
  .prefault({});

export const unikernelSchema = z
  .strictObject({
    /** `auto` deploys the unikernel only when `kraft` is on the PATH; `true` fails without it. */
    enabled: z.union([z.boolean(), z.literal("auto")]).default("auto"),
    /** `kraft build --plat` / `kraft run --plat`. */
    platform: z.enum(["qemu", "fc", "xen"]).default("qemu"),
    /** `kraft build --arch` / `kraft run --arch`; Unikraft's prebuilt `base` runtime ships x86_64. */
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    /**
     * Image whose Node 22 the unikernel runs. Unikraft's ELF loader needs a position-independent
     * executable: Alpine's Node is one, the nodejs.org build in Debian-based images is not.
     */
    nodeImage: z.string().min(1).default("node:22-alpine"),
    /** Guest memory, passed to `kraft run -M` as a Kubernetes quantity in Mi. */
    memoryMi: numeric((n) => n.int().min(16, "must be at least 16 (Unikraft's ELF loader needs room beside Node)")).default(UNIKERNEL_DEFAULT_MEMORY_MI),
    /** Host port forwarded to the guest's port 8000 (user networking only). */
    hostPort: hostPortSchema.default(8004),
    /** `user`: QEMU user networking with port forwarding (no root, slow); `bridge`: a kraft bridge network (fast, needs root). */
    network: z.enum(["user", "bridge"]).default("user"),
    bridge: bridgeSchema,
    /** `auto`: QEMU's software emulation (`kraft run --disable-acceleration`) only when /dev/kvm is not usable. */
    emulation: z.union([z.boolean(), z.literal("auto")]).default("auto"),
    /** How long the run step waits for GET /health before it removes the instance and fails. */
    healthTimeoutSeconds: numeric((n) => n.int().positive().max(1800)).default(120),
  })
  .prefault({})
  .superRefine((config, ctx) => {
    if (config.emulation === true && config.platform !== "qemu") {
      ctx.addIssue({ code: "custom", path: ["emulation"], message: `only QEMU can emulate a CPU; ${config.platform} needs KVM, so use auto or false` });
    }
    if (config.network !== "bridge") return;
    const { gateway, ip, prefixLength } = config.bridge;
    if (gateway === ip) {
      ctx.addIssue({ code: "custom", path: ["bridge", "ip"], message: "must differ from bridge.gateway" });
    } else if (!sameSubnet(gateway, ip, prefixLength)) {
      ctx.addIssue({ code: "custom", path: ["bridge", "ip"], message: `must be in ${gateway}/${prefixLength}` });
    }
  });

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function sameSubnet(a: string, b: string, prefixLength: number): boolean {
  const size = 2 ** (32 - prefixLength);
  return Math.floor(ipv4ToNumber(a) / size) === Math.floor(ipv4ToNumber(b) / size);
}
