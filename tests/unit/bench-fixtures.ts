/** Fixed bench results with hand-computed answers, shared by the bench unit tests. */
import { BenchResults, RunResult, VariantResult } from "../../bench/schema";

export function makeRun(overrides: Partial<RunResult> = {}): RunResult {
  return {
    endpoint: "/api/light",
    repetition: 0,
    step: 0,
    connections: 50,
    durationSeconds: 10,
    responses: 10_000,
    bytes: 1_000_000,
    latencyMs: { p50: 2, p90: 4, p99: 8, max: 20, mean: 2.5 },
    errors: { connect: 0, socket: 0, timeouts: 0, non2xx: 0 },
    server: { cpuSeconds: 9, peakMemoryMb: 60, samples: 21 },
    warmupCpuSeconds: 2,
    client: { engine: "wrk", cpuSeconds: 5, cores: 1 },
    proxyCpuSeconds: null,
    hostBusy: 0.7,
    hostInterrupts: 0.05,
    hostSteal: 0,
    hostOthers: null,
    referenceMs: 100,
    raplJoules: null,
    bottleneck: { verdict: "server", reason: "fixture" },
    partial: false,
    ...overrides,
  };
}

export function makeVariant(name: string, cpus: number, memoryMb: number, runs: RunResult[], overrides: Partial<VariantResult> = {}): VariantResult {
  return {
    name,
    url: `http://127.0.0.1:800${cpus * 2}`,
    status: "measured",
    detail: null,
    runtime: null,
    budget: { cpus, memoryMb, source: "stack" },
    declared: { cpus, memoryMb },
    enforced: null,
    generator: null,
    notMeasurable: null,
    container: { name: `optivolt-lab-${name}`, id: `${name}-id` },
    statsSource: "cgroup",
    provenance: { isolation: "container", accel: null, guest: null },
    boot: null,
    memoryFloor: null,
    networkPath: "127.0.0.1 → docker-proxy (userland) → container bridge",
    warnings: [],
    runs,
    ...overrides,
  };
}

/**
 * On /api/light over 10 s:
 * standard (2 CPUs, 512 MB): 12 000 responses, 15 CPU-s → 1200 req/s, 600 per CPU, 2400 per GB, 800 per CPU-s, 12.5 J/1000 at 10 W.
 * microvm  (1 CPU, 256 MB):   9 000 responses, 9.5 CPU-s → 900 req/s, 900 per CPU (×1.5), 3600 per GB (×1.5), 947.37 per CPU-s.
 * minimal  (0.5 CPU, 128 MB): 5 000 responses, 4.8 CPU-s → 500 req/s, 1000 per CPU (×1.667), 4000 per GB, 1041.67 per CPU-s, 9.6 J/1000.
 * Plus the unikernel listed as skipped.
 */
export function makeResults(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    schemaVersion: 2,
    startedAt: "2026-11-27T08:00:00.000Z",
    finishedAt: "2026-11-27T08:03:00.000Z",
    complete: true,
    settings: {
      mode: "quick",
      engine: "wrk",
      endpoints: ["/api/light"],
      durationSeconds: 10,
      warmupSeconds: 3,
      connections: 50,
      threads: 1,
      repetitions: 1,
      timeoutSeconds: 5,
      sampleIntervalMs: 250,
      baseline: "standard",
      path: "published",
      wattsPerCore: 10,
      stress: { maxErrorRate: 0.01, maxP99Ms: 2000, maxConnections: 1024 },
      source: "stack dev",
    },
    provenance: {
      machine: { os: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0", cpuModel: "Test CPU", cores: 2, memoryMb: 24_000 },
      tools: { node: "v20.20.2", wrk: "debian/4.1.0-3+b2 [epoll]", "docker engine": "20.10.24 (API 1.41)" },
      energySource: "estimate",
      userlandProxy: { enabled: true, evidence: "dockerd's default" },
      command: "npm run bench -- --stack dev",
    },
    variants: [
      makeVariant("standard", 2, 512, [makeRun({ responses: 12_000, server: { cpuSeconds: 15, peakMemoryMb: 90, samples: 21 }, bottleneck: { verdict: "host", reason: "host CPUs 98 % busy" } })]),
      makeVariant("microvm", 1, 256, [makeRun({ responses: 9_000, server: { cpuSeconds: 9.5, peakMemoryMb: 70, samples: 21 } })]),
      makeVariant("minimal", 0.5, 128, [makeRun({ responses: 5_000, server: { cpuSeconds: 4.8, peakMemoryMb: 120, samples: 21 } })]),
      makeVariant("unikernel", 1, 256, [], { status: "skipped", detail: "skipped: kraft not found", url: null, container: null, statsSource: null, provenance: { isolation: null, accel: null, guest: null }, networkPath: null }),
    ],
    ...overrides,
  };
}
