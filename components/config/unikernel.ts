import { z } from "zod";
import { numeric } from "./numbers";
import { cpusetSchema, hostPortSchema } from "./variants";

/**
 * Default guest memory of the unikernel, in MiB: the source build's measured floor, the smallest
 * guest RAM (in 32 MiB steps) that serves the bench's load (10 s of /api/light, then 30 s of
 * /api/heavy, 50 connections each) with no error under TCG (`npm run unikernel:targets -- --floor`;
 * at 448 MiB the guest runs out of memory under /api/heavy). The kraft path warns below its own
 * estimate (KRAFT_MEMORY_ESTIMATE_MI). docs/unikernel.md has the figures.
 */
export const UNIKERNEL_DEFAULT_MEMORY_MI = 480;

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

/** Where an archive comes from: an http(s) URL, or a file path (relative to the project root). */
const archiveLocation = z.string().min(1, "must be an http(s) URL or a file path");

/**
 * The pinned Unikraft releases the source builder unpacks; each defaults to its upstream GitHub
 * release archive. A stack without internet points them at local copies (the ci stack: the vendored ones).
 */
export const UNIKRAFT_ARCHIVE_DEFAULTS = {
  unikraft: "https://github.com/unikraft/unikraft/archive/refs/tags/RELEASE-0.16.3.tar.gz",
  appElfloader: "https://github.com/unikraft/app-elfloader/archive/refs/tags/RELEASE-0.16.3.tar.gz",
  libLwip: "https://github.com/unikraft/lib-lwip/archive/refs/tags/RELEASE-0.16.2.tar.gz",
  libLibelf: "https://github.com/unikraft/lib-libelf/archive/refs/tags/RELEASE-0.16.0.tar.gz",
  /** The lwIP sources lib-lwip's build would download itself. */
  lwipZip: "https://github.com/unikraft/fork-lwip/archive/refs/heads/UNIKRAFT-2_1_x.zip",
} as const;

const archivesSchema = z
  .strictObject({
    unikraft: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.unikraft),
    appElfloader: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.appElfloader),
    libLwip: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.libLwip),
    libLibelf: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.libLibelf),
    lwipZip: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.lwipZip),
  })
  .prefault({});

export const UNIKERNEL_BUILDERS = ["kraft", "source", "auto"] as const;
export const UNIKERNEL_ACCELS = ["auto", "kvm", "tcg"] as const;

export const unikernelSchema = z
  .strictObject({
    /** `auto` deploys the unikernel only when a builder can run here; `true` fails without one. */
    enabled: z.union([z.boolean(), z.literal("auto")]).default("auto"),
    /**
     * How the unikernel is made and run. `kraft`: KraftKit builds and runs it. `source`: Unikraft's ELF
     * loader built with make from pinned archives, run by QEMU (unikernel/source/). `auto`: kraft when it
     * is on the PATH, else source when qemu-system-x86_64 and make are, else skipped with one warning.
     */
    builder: z.enum(UNIKERNEL_BUILDERS).default("auto"),
    /** Source builder: the release archives to build from. */
    source: z.strictObject({ archives: archivesSchema }).prefault({}),
    /**
     * Source builder: QEMU's acceleration. `auto` uses KVM only when a probe boot under KVM reaches
     * Unikraft's banner (a /dev/kvm that opens may still not run this guest), TCG emulation otherwise.
     */
    accel: z.enum(UNIKERNEL_ACCELS).default("auto"),
    /**
     * Source builder under TCG: QEMU's translation cache, in MiB. QEMU's default (1 GiB) would be
     * counted against the variant; docs/unikernel.md has the measured trade-off.
     */
    tcgCacheMi: numeric((n) => n.int().min(8).max(1024)).default(32),
    /**
     * Source builder: cores QEMU may run on (`taskset -c`), like a container's cpuset; unset: any
     * core. The bench measures a variant only when a core is left for its load generator.
     */
    cpuset: cpusetSchema.optional(),
    /** `kraft build --plat` / `kraft run --plat`. */
    platform: z.enum(["qemu", "fc", "xen"]).default("qemu"),
    /** `kraft build --arch` / `kraft run --arch`; Unikraft's prebuilt `base` runtime ships x86_64. */
    architecture: z.enum(["x86_64", "arm64"]).default("x86_64"),
    /**
     * Image whose Node 22 the unikernel runs. Unikraft's ELF loader needs a position-independent
     * executable: Alpine's Node is one, the nodejs.org build in Debian-based images is not.
     */
    nodeImage: z.string().min(1).default("node:22-alpine"),
    /** Guest memory in MiB: `kraft run -M <n>Mi`, or QEMU's `-m` through `qemu.sh start --memory`. */
    memoryMi: numeric((n) => n.int().min(16, "must be at least 16 (Unikraft's ELF loader needs room beside Node)")).default(UNIKERNEL_DEFAULT_MEMORY_MI),
    /** Host port forwarded to the guest's port 8000 (user networking; built from source, also on the lab network's gateway for Prometheus). */
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
