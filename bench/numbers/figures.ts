/** Figures derived from raw runs, and their aggregation over repetitions (pure). */
import { Bottleneck, RunResult, VariantResult } from "../schema";
import { median, summarize, Summary } from "./stats";

export function failedRequests(run: RunResult): number {
  const e = run.errors;
  return e.connect + e.socket + e.timeouts + e.non2xx;
}

/** Successful (status < 400) responses per second. */
export function successRps(run: RunResult): number {
  if (run.durationSeconds === 0) return 0;
  return (run.responses - run.errors.non2xx) / run.durationSeconds;
}

/** Failed requests (errors, timeouts, status >= 400) over attempted requests. */
export function errorRate(run: RunResult): number {
  const e = run.errors;
  const attempts = run.responses + e.connect + e.socket + e.timeouts;
  return attempts === 0 ? 1 : failedRequests(run) / attempts;
}

/** One variant × endpoint × concurrency, over its repetitions. */
export interface EndpointFigures {
  endpoint: string;
  connections: number;
  step: number;
  repetitions: number;
  /** Successful req/s per repetition. */
  rps: Summary;
  /** Medians over repetitions (max: the highest seen). */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errorRate: number;
  bytesPerSecond: number;
  successfulRequests: number;
  durationSeconds: number;
  /** Summed over repetitions; null when no run had container stats. */
  serverCpuSeconds: number | null;
  peakMemoryMb: number | null;
  raplJoules: number | null;
  clientCpuSeconds: number;
  proxyCpuSeconds: number | null;
  bottlenecks: Bottleneck[];
  partial: boolean;
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return (values as number[]).reduce((a, b) => a + b, 0);
}

function aggregateGroup(runs: readonly RunResult[]): EndpointFigures {
  const first = runs[0];
  const duration = runs.reduce((sum, r) => sum + r.durationSeconds, 0);
  const attempts = runs.reduce((sum, r) => sum + r.responses + r.errors.connect + r.errors.socket + r.errors.timeouts, 0);
  const failures = runs.reduce((sum, r) => sum + failedRequests(r), 0);
  const peaks = runs.map((r) => r.server?.peakMemoryMb ?? null);
  return {
    endpoint: first.endpoint,
    connections: first.connections,
    step: first.step,
    repetitions: runs.length,
    rps: summarize(runs.map(successRps)),
    latencyMs: {
      p50: median(runs.map((r) => r.latencyMs.p50)),
      p90: median(runs.map((r) => r.latencyMs.p90)),
      p99: median(runs.map((r) => r.latencyMs.p99)),
      max: Math.max(...runs.map((r) => r.latencyMs.max)),
    },
    errorRate: attempts === 0 ? 1 : failures / attempts,
    bytesPerSecond: duration === 0 ? 0 : runs.reduce((sum, r) => sum + r.bytes, 0) / duration,
    successfulRequests: runs.reduce((sum, r) => sum + r.responses - r.errors.non2xx, 0),
    durationSeconds: duration,
    serverCpuSeconds: sumOrNull(runs.map((r) => r.server?.cpuSeconds ?? null)),
    peakMemoryMb: peaks.some((p) => p === null) ? null : Math.max(...(peaks as number[])),
    raplJoules: sumOrNull(runs.map((r) => r.raplJoules)),
    clientCpuSeconds: runs.reduce((sum, r) => sum + r.client.cpuSeconds, 0),
    proxyCpuSeconds: sumOrNull(runs.map((r) => r.proxyCpuSeconds)),
    bottlenecks: [...new Set(runs.map((r) => r.bottleneck.verdict))],
    partial: runs.some((r) => r.partial),
  };
}

/** Groups a variant's runs by endpoint and concurrency, in measurement order. */
export function aggregateRuns(variant: Pick<VariantResult, "runs">): EndpointFigures[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of variant.runs) {
    const key = `${run.endpoint}\u0000${run.connections}`;
    const group = groups.get(key) ?? [];
    group.push(run);
    groups.set(key, group);
  }
  return [...groups.values()].map(aggregateGroup);
}

/**
 * One figure set per endpoint: the only one in quick/full mode; in stress mode the step with the
 * highest throughput (the variant's best showing on that endpoint).
 */
export function figuresByEndpoint(variant: Pick<VariantResult, "runs">): Map<string, EndpointFigures> {
  const best = new Map<string, EndpointFigures>();
  for (const figures of aggregateRuns(variant)) {
    const current = best.get(figures.endpoint);
    if (current === undefined || figures.rps.median > current.rps.median) best.set(figures.endpoint, figures);
  }
  return best;
}
