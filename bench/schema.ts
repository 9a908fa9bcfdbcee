/**
 * The results.json contract (documented field by field in bench/README.md).
 * It holds raw measurements and their provenance; every derived figure in the report
 * (efficiency, energy per request, conclusions) is recomputed from it by pure functions.
 */
import { z } from "zod";

export const RESULTS_SCHEMA_VERSION = 2;

export const MODES = ["quick", "full", "stress"] as const;
export type Mode = (typeof MODES)[number];

export const LOAD_ENGINES = ["wrk", "autocannon"] as const;
export type LoadEngineName = (typeof LOAD_ENGINES)[number];

/**
 * How the load reaches a variant: `namespace` runs the generator in a container that joins the
 * variant's network namespace (127.0.0.1 inside: no docker-proxy, no NAT); `published` sends it
 * from the host to the published port (through docker-proxy when the engine runs it); `swarm` runs it
 * as a Swarm task on the load generator's node, to the variant's service on the overlay network.
 */
export const MEASURING_PATHS = ["namespace", "published", "swarm"] as const;
export type MeasuringPathName = (typeof MEASURING_PATHS)[number];

const nonNegative = z.number().nonnegative();

export const latencySchema = z.strictObject({
  p50: nonNegative,
  p90: nonNegative,
  p99: nonNegative,
  max: nonNegative,
  mean: nonNegative,
});

export const errorCountsSchema = z.strictObject({
  /** Sockets that could not connect. */
  connect: z.number().int().nonnegative(),
  /** Read/write/reset errors on open sockets. */
  socket: z.number().int().nonnegative(),
  /** Requests that got no answer within the request timeout. */
  timeouts: z.number().int().nonnegative(),
  /** Responses with status >= 400 (wrk's definition; autocannon's non-2xx also counts 3xx, which the app never sends). */
  non2xx: z.number().int().nonnegative(),
});

export const serverUsageSchema = z.strictObject({
  /** Server CPU time during the measured window: delta of the container's CPU counter, or of a QEMU process's utime + stime. */
  cpuSeconds: nonNegative,
  /** Highest memory use seen by the samples (container: usage minus inactive page cache, as `docker stats`; QEMU: VmRSS). */
  peakMemoryMb: nonNegative,
  samples: z.number().int().nonnegative(),
});

export const BOTTLENECKS = ["server", "client", "host", "unsaturated", "unknown"] as const;
export type Bottleneck = (typeof BOTTLENECKS)[number];

export const runSchema = z.strictObject({
  endpoint: z.string(),
  repetition: z.number().int().nonnegative(),
  /** Stress step index (0 outside stress mode). */
  step: z.number().int().nonnegative(),
  connections: z.number().int().positive(),
  durationSeconds: nonNegative,
  /** Completed responses, any status. */
  responses: z.number().int().nonnegative(),
  bytes: nonNegative,
  latencyMs: latencySchema,
  errors: errorCountsSchema,
  server: serverUsageSchema.nullable(),
  /** Container CPU spent in the warm-up before this run (not part of any figure; kept for cross-checks). */
  warmupCpuSeconds: nonNegative.nullable(),
  client: z.strictObject({
    engine: z.enum(LOAD_ENGINES),
    cpuSeconds: nonNegative,
    /** Cores the generator can use at most (wrk threads, 1 for autocannon). */
    cores: z.number().positive(),
  }),
  /** CPU of the docker-proxy process relaying this port, when one exists. */
  proxyCpuSeconds: nonNegative.nullable(),
  /** Busy fraction of all host cores during the run (0..1), from /proc/stat. */
  hostBusy: z.number().min(0).max(1).nullable(),
  /** Share of all host cores spent in irq/softirq (kernel network work, charged to no container). */
  hostInterrupts: z.number().min(0).max(1).nullable(),
  /** Share of all host cores the hypervisor gave to someone else during the run (steal, /proc/stat); null: unknown or an older file. */
  hostSteal: z.number().min(0).max(1).nullable().default(null),
  /**
   * Share of the variant's own cores (0..1) used by anything but the server during the run (another
   * user's process, the bench's own tools), from /proc/stat per core; null when the variant shares
   * its cores with the generator or the rest of the host, or an older file.
   */
  hostOthers: z.number().min(0).max(1).nullable().default(null),
  /** Milliseconds the fixed reference workload (bench/counters/reference.ts) took on the variant's cores just before the run's warm-up; null: not run or an older file. */
  referenceMs: nonNegative.nullable().default(null),
  /** Package energy from RAPL over the run (whole host), when the host exposes it. */
  raplJoules: nonNegative.nullable(),
  bottleneck: z.strictObject({ verdict: z.enum(BOTTLENECKS), reason: z.string() }),
  /** True when the run was cut short by an interrupt. */
  partial: z.boolean(),
});
export type RunResult = z.infer<typeof runSchema>;

export const ACCELS = ["kvm", "tcg"] as const;
export type Accel = (typeof ACCELS)[number];

/** The two VM rungs QEMU runs: a Linux guest on `-M microvm`, or the Unikraft unikernel. */
export const GUEST_KINDS = ["microvm", "unikernel"] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

/**
 * What ran the variant: a container, or QEMU with hardware (kvm) or software (tcg) emulation, and
 * which guest QEMU ran; null entries when unknown (no container found, the stack or --target did not
 * say, or a file written before the field existed).
 */
export const variantProvenanceSchema = z.strictObject({
  isolation: z.enum(["container", "qemu"]).nullable(),
  accel: z.enum(ACCELS).nullable(),
  /** For a QEMU variant: the micro-VM or the unikernel (the stack outputs' or --target's `isolation`). */
  guest: z.enum(GUEST_KINDS).nullable().default(null),
});
export type VariantProvenance = z.infer<typeof variantProvenanceSchema>;

/** Where a boot time was read: a guest's boot.json (written by the QEMU runner) or a container's Docker health log. */
export const BOOT_SOURCES = ["boot.json", "health-log"] as const;

/**
 * Start to the first 200 on /health: it came after `afterMs` and by `byMs` (ms after the start);
 * equal bounds when it was timed directly (a guest's runner polls /health itself), a window as wide
 * as the probe interval for a container (Docker probes every `interval`). Null bounds: not known,
 * `detail` says why.
 */
export const bootSchema = z.strictObject({
  afterMs: nonNegative.nullable(),
  byMs: nonNegative.nullable(),
  source: z.enum(BOOT_SOURCES).nullable(),
  detail: z.string(),
});
export type BootTime = z.infer<typeof bootSchema>;

/** The least memory the variant can serve the bench's load in, as the stack config states it, and where it was measured; null mb: none stated. */
export const memoryFloorSchema = z.strictObject({
  mb: z.number().positive().nullable(),
  source: z.string(),
});
export type MemoryFloor = z.infer<typeof memoryFloorSchema>;

export const VARIANT_STATUSES = ["measured", "skipped", "unreachable", "refused", "failed", "not-run"] as const;

export const variantResultSchema = z.strictObject({
  name: z.string(),
  url: z.string().nullable(),
  status: z.enum(VARIANT_STATUSES),
  /** Why it was skipped/unreachable/refused/failed, or the stack's own status text. */
  detail: z.string().nullable(),
  /** Runtime the stack output names (`node`, `bun`), when it carries one. */
  runtime: z.string().nullable(),
  /** The budget per-CPU and per-GB figures divide by: the enforced limits when a container was found. */
  budget: z.strictObject({
    cpus: z.number().positive().nullable(),
    memoryMb: z.number().positive().nullable(),
    /** Where the budget came from. */
    source: z.enum(["stack", "target", "container", "none"]),
  }),
  /** The budget the stack or --target declared (null entries: not declared). */
  declared: z.strictObject({ cpus: z.number().positive().nullable(), memoryMb: z.number().positive().nullable() }),
  /** Limits the engine enforces on the container: CPU quota, memory, cores it may run on ("" = any). */
  enforced: z.strictObject({ cpus: z.number().positive().nullable(), memoryMb: z.number().positive().nullable(), cpuset: z.string() }).nullable(),
  /** Where the load generator ran, on the namespace path. */
  generator: z.strictObject({ image: z.string(), network: z.string(), cpuset: z.string().nullable() }).nullable(),
  /** Set when the generator could not get cores of its own: the figures are shown, never compared. */
  notMeasurable: z.string().nullable(),
  container: z.strictObject({ name: z.string(), id: z.string() }).nullable(),
  /** Where CPU and memory were read: the container's cgroup files, the engine's stats API, or a QEMU process's /proc files. */
  statsSource: z.enum(["cgroup", "engine", "process"]).nullable(),
  provenance: variantProvenanceSchema.default({ isolation: null, accel: null, guest: null }),
  /** Start to first 200 on /health; null in files written before it existed. */
  boot: bootSchema.nullable().default(null),
  /** The stack config's memory floor for this variant; null in files written before it existed. */
  memoryFloor: memoryFloorSchema.nullable().default(null),
  networkPath: z.string().nullable(),
  /** Disagreements between the declared budget and the limits the engine enforces. */
  warnings: z.array(z.string()),
  runs: z.array(runSchema),
});
export type VariantResult = z.infer<typeof variantResultSchema>;

export const settingsSchema = z.strictObject({
  mode: z.enum(MODES),
  engine: z.enum(LOAD_ENGINES),
  endpoints: z.array(z.string()).min(1),
  durationSeconds: z.number().positive(),
  warmupSeconds: nonNegative,
  connections: z.number().int().positive(),
  threads: z.number().int().positive(),
  repetitions: z.number().int().positive(),
  timeoutSeconds: z.number().positive(),
  sampleIntervalMs: z.number().int().positive(),
  baseline: z.string(),
  path: z.enum(MEASURING_PATHS),
  wattsPerCore: z.number().positive(),
  stress: z.strictObject({
    maxErrorRate: z.number().min(0).max(1),
    maxP99Ms: z.number().positive(),
    maxConnections: z.number().int().positive(),
  }),
  source: z.string(),
});
export type BenchSettings = z.infer<typeof settingsSchema>;

export const provenanceSchema = z.strictObject({
  machine: z.strictObject({
    os: z.string(),
    kernel: z.string(),
    cpuModel: z.string(),
    cores: z.number().int().positive(),
    memoryMb: z.number().positive(),
  }),
  tools: z.record(z.string(), z.string()),
  energySource: z.enum(["rapl", "estimate"]),
  /** Whether the Docker engine relays published ports through its userland docker-proxy (null: unknown). */
  userlandProxy: z.strictObject({ enabled: z.boolean().nullable(), evidence: z.string() }),
  command: z.string(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

export const resultsSchema = z.strictObject({
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** False when interrupted: the file holds what was measured until then. */
  complete: z.boolean(),
  settings: settingsSchema,
  provenance: provenanceSchema,
  variants: z.array(variantResultSchema),
});
export type BenchResults = z.infer<typeof resultsSchema>;

/** Validates a parsed results.json; the error lists every bad field. */
export function parseResults(raw: unknown): BenchResults {
  const result = resultsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
    const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
    if (typeof version === "number" && version !== RESULTS_SCHEMA_VERSION) {
      throw new Error(`results.json has schema v${version}, this bench reads v${RESULTS_SCHEMA_VERSION}; re-run the bench to get a comparable file`);
    }
    throw new Error(`results.json does not match schema v${RESULTS_SCHEMA_VERSION}:\n  - ${problems.join("\n  - ")}`);
  }
  return result.data;
}
