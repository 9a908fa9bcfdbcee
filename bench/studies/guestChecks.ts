/** What the studies of the QEMU guests check the same way: every route's answer, timings, verdicts, load settings. */
import { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_WATTS_PER_CORE, MODE_DEFAULTS, STRESS_DEFAULTS } from "../cli/args";
import { BenchSettings } from "../schema";

/** Every route and what a correct answer looks like (status, and the body size where it is fixed). */
export const GUEST_ROUTES: readonly { path: string; status: number; bytes?: number }[] = [
  { path: "/", status: 200 },
  { path: "/health", status: 200 },
  { path: "/api/light", status: 200 },
  { path: "/api/heavy", status: 200, bytes: 512_000 },
  { path: "/api/slow", status: 200 },
  { path: "/metrics", status: 200 },
  { path: "/no-such-route", status: 404 },
  { path: "/api/light?unexpected=1", status: 400 },
];

/** What is wrong with the guest's answers at `baseUrl`, one line a route; empty when all are right. */
export async function routeProblems(baseUrl: string): Promise<string[]> {
  const problems: string[] = [];
  for (const route of GUEST_ROUTES) {
    const response = await fetch(baseUrl + route.path, { signal: AbortSignal.timeout(15_000) });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== route.status) problems.push(`${route.path}: HTTP ${response.status}, want ${route.status}`);
    if (route.bytes !== undefined && body.length !== route.bytes) problems.push(`${route.path}: ${body.length} bytes, want ${route.bytes}`);
  }
  return problems;
}

/** The work's result and its wall-clock seconds. */
export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - started) / 1e9];
}

export const verdict = (met: boolean): string => (met ? "met" : "MISSED");

/**
 * One load of a study: `seconds` of `endpoint` at the bench's quick concurrency, no warm-up, one
 * repetition, against the guest named `variant` through QEMU's forwarded port.
 */
export function guestLoadSettings(variant: string, engine: BenchSettings["engine"], endpoint: string, seconds: number, timeoutSeconds: number, source: string): BenchSettings {
  return {
    mode: "quick",
    engine,
    endpoints: [endpoint],
    durationSeconds: seconds,
    warmupSeconds: 0,
    connections: MODE_DEFAULTS.quick.connections,
    threads: 1,
    repetitions: 1,
    timeoutSeconds,
    sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
    baseline: variant,
    path: "published",
    wattsPerCore: DEFAULT_WATTS_PER_CORE,
    stress: STRESS_DEFAULTS,
    source,
  };
}
