/** Plain descriptive statistics over repeated measurements (pure). */

export interface Summary {
  n: number;
  mean: number;
  median: number;
  min: number;
  max: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  stdev: number;
  /** stdev / mean; 0 when the mean is 0. */
  cv: number;
  /** (max − min) / median: how far apart the repetitions are; 0 for a single value. */
  spread: number;
}

/** Above this spread between repetitions a difference is not established (issue 13). */
export const NOISE_SPREAD = 0.1;

/**
 * Noise of a session measured without repetitions, per metric: no smaller than the largest change
 * this bench measured between back-to-back quick sessions of one unchanged container
 * (docs/benchmarks.md, "Compare two sessions", gives the figures and the command).
 */
export const DEFAULT_NOISE = { rps: 1.0, p99: 50 };

/**
 * Noise floor of a session with repetitions, per metric. Its repetitions run one after another and
 * share the machine's state, so their spread understates how far two sessions minutes apart differ;
 * the floor is about twice the largest change measured between back-to-back sessions of three
 * repetitions of one unchanged container on a machine whose readings stayed within bounds
 * (12.8 % req/s, 23.8 % p99; docs/benchmarks.md, "Compare two sessions", gives the figures and the command).
 */
export const SESSION_NOISE_FLOOR = { rps: 0.25, p99: 0.5 };

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summary of no values");
  const n = values.length;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const variance = n > 1 ? values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1) : 0;
  const stdev = Math.sqrt(variance);
  const mid = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { n, mean, median: mid, min, max, stdev, cv: mean === 0 ? 0 : stdev / mean, spread: mid === 0 ? 0 : (max - min) / mid };
}

/** value / reference, or null when either is missing or the reference is 0. */
export function ratio(value: number | null, reference: number | null): number | null {
  if (value === null || reference === null || reference === 0) return null;
  return value / reference;
}
