import { z } from "zod";
import { numeric } from "./numbers";
import { pinnedImage } from "./pinnedImage";
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

/** Where an archive comes from: an https URL, or a file path (relative to the project root). */
const archiveLocation = z
  .string()
  .min(1, "must be an https URL or a file path")
  .refine((location) => !/^http:\/\//i.test(location), "must not be an http:// URL (anyone on the path could change it); use https:// or a local file");

/** Commit of unikraft/fork-lwip's `UNIKRAFT-2_1_x` branch that lib-lwip 0.16.2 builds (the vendored zip's own comment). */
export const LWIP_FORK_COMMIT = "bef26c44236a078d4352e76392ef16f019bea501";

/**
 * The pinned Unikraft releases the source builder unpacks; each defaults to its upstream GitHub
 * archive of a tag or a commit (never a branch). A stack without internet points them at local copies (the ci stack: the vendored ones).
 */
export const UNIKRAFT_ARCHIVE_DEFAULTS = {
  unikraft: "https://github.com/unikraft/unikraft/archive/refs/tags/RELEASE-0.16.3.tar.gz",
  appElfloader: "https://github.com/unikraft/app-elfloader/archive/refs/tags/RELEASE-0.16.3.tar.gz",
  libLwip: "https://github.com/unikraft/lib-lwip/archive/refs/tags/RELEASE-0.16.2.tar.gz",
  libLibelf: "https://github.com/unikraft/lib-libelf/archive/refs/tags/RELEASE-0.16.0.tar.gz",
  /** The lwIP sources lib-lwip's build would download itself (from its moving branch; here its commit). */
  lwipZip: `https://github.com/unikraft/fork-lwip/archive/${LWIP_FORK_COMMIT}.zip`,
} as const;

export type UnikraftArchive = keyof typeof UNIKRAFT_ARCHIVE_DEFAULTS;

/**
 * SHA-256 of each default archive, which the build checks before unpacking. The four release
 * tarballs are the files vendored for the ci stack (upstream's, unchanged). The lwIP zip of the
 * commit holds the same bytes as the vendored branch zip of that commit except its top folder's
 * name (fork-lwip-<commit>/); its sum is that archive's, derived from the vendored one.
 */
export const UNIKRAFT_ARCHIVE_SHA256: Record<UnikraftArchive, string> = {
  unikraft: "382646df4432ce3b933b7bbf4a08f4babb228e309dacfcee75073b6836682357",
  appElfloader: "134842d7ef8ed54cd56b4cbbefc3dde6e1fe908211d32ebc4f9cf79b5f135b5e",
  libLwip: "9122cde749bf60e2529a103dfa0e4ebcd31de9256fd43e31a0b3c9254946b11e",
  libLibelf: "529b44e67f8eab2b42305c4dd2f3fa4aee9470903fd3af8e50c0bc8539554487",
  lwipZip: "a01e52e600628c4b4ed833b1c1da3c5a7dbab573a51e91bd505fdd4ca8eaf7f6",
};

const archivesSchema = z
  .strictObject({
    unikraft: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.unikraft),
    appElfloader: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.appElfloader),
    libLwip: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.libLwip),
    libLibelf: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.libLibelf),
    lwipZip: archiveLocation.default(UNIKRAFT_ARCHIVE_DEFAULTS.lwipZip),
  })
  .prefault({});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 in hex (64 characters, as `sha256sum FILE` prints it)");

/** The sum of each archive; an archive at a location of its own must state its own (checked in the superRefine). */
const sha256Schema = z.strictObject({
  unikraft: sha256Hex.optional(),
  appElfloader: sha256Hex.optional(),
  libLwip: sha256Hex.optional(),
  libLibelf: sha256Hex.optional(),
  lwipZip: sha256Hex.optional(),
}).prefault({});

/** Source builder: where each archive comes from, and its SHA-256, which the build checks. */
const sourceSchema = z
  .strictObject({ archives: archivesSchema, sha256: sha256Schema })
  .prefault({})
  .superRefine((source, ctx) => {
    for (const key of Object.keys(UNIKRAFT_ARCHIVE_DEFAULTS) as UnikraftArchive[]) {
      if (source.sha256[key] === undefined && source.archives[key] !== UNIKRAFT_ARCHIVE_DEFAULTS[key]) {
        ctx.addIssue({ code: "custom", path: ["sha256", key], message: `archives.${key} is not the default archive, so give its SHA-256 (\`sha256sum FILE\`)` });
      }
    }
  })
  .transform((source) => ({
    archives: source.archives,
    sha256: Object.fromEntries(
      (Object.keys(UNIKRAFT_ARCHIVE_DEFAULTS) as UnikraftArchive[]).map((key) => [key, source.sha256[key] ?? UNIKRAFT_ARCHIVE_SHA256[key]]),
    ) as Record<UnikraftArchive, string>,
  }));

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
    source: sourceSchema,
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
    nodeImage: pinnedImage.default("node:22-alpine"),
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
