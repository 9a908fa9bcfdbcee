/** Stress mode: the concurrency ladder and where a variant breaks (pure). */
import { aggregateRuns, EndpointFigures } from "./figures";
import { VariantResult } from "../schema";

export interface StressThresholds {
  maxErrorRate: number;
  maxP99Ms: number;
}

/** Connection counts for the ladder: start, doubling, up to max (inclusive, max appended if skipped). */
export function stressLadder(start: number, max: number): number[] {
  const ladder: number[] = [];
  for (let c = start; c < max; c *= 2) ladder.push(c);
  ladder.push(max);
  return ladder;
}

/** Why this step breaks the thresholds, or null when it holds. */
export function stressBreach(step: Pick<EndpointFigures, "errorRate" | "latencyMs">, limits: StressThresholds): string | null {
  const reasons: string[] = [];
  if (step.errorRate > limits.maxErrorRate) {
    reasons.push(`error rate ${(step.errorRate * 100).toFixed(1)} % > ${(limits.maxErrorRate * 100).toFixed(1)} %`);
  }
  if (step.latencyMs.p99 > limits.maxP99Ms) reasons.push(`p99 ${step.latencyMs.p99.toFixed(0)} ms > ${limits.maxP99Ms} ms`);
  return reasons.length === 0 ? null : reasons.join(", ");
}

export interface StressOutcome {
  endpoint: string;
  /** Highest concurrency that held, with its throughput. */
  held: { connections: number; rps: number } | null;
  /** First concurrency that broke a threshold; null when the ladder ended first. */
  broke: { connections: number; reason: string } | null;
  peakRps: number;
}

/** Reads one endpoint's ladder (in any order) into where it held and where it broke. */
export function stressOutcome(steps: readonly EndpointFigures[], limits: StressThresholds): StressOutcome {
  const ordered = [...steps].sort((a, b) => a.connections - b.connections);
  let held: StressOutcome["held"] = null;
  let broke: StressOutcome["broke"] = null;
  for (const step of ordered) {
    const reason = stressBreach(step, limits);
    if (reason !== null) {
      broke = { connections: step.connections, reason };
      break;
    }
    held = { connections: step.connections, rps: step.rps.median };
  }
  return { endpoint: ordered[0]?.endpoint ?? "", held, broke, peakRps: Math.max(0, ...ordered.map((s) => s.rps.median)) };
}

/** Stress outcome of every endpoint a variant was driven on, in measurement order. */
export function variantStressOutcomes(variant: Pick<VariantResult, "runs">, limits: StressThresholds): StressOutcome[] {
  const byEndpoint = new Map<string, EndpointFigures[]>();
  for (const f of aggregateRuns(variant)) byEndpoint.set(f.endpoint, [...(byEndpoint.get(f.endpoint) ?? []), f]);
  return [...byEndpoint.values()].map((steps) => stressOutcome(steps, limits));
}
