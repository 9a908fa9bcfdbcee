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

/** What one size of the floor search measured on the booted guest. */
export interface FloorTrial {
  lightRequests: number;
  heavyRequests: number;
  /** Connection, socket and timeout errors and non-2xx answers of both loads. */
  errors: number;
  /** Why a load could not measure the guest, or what the guest reported (out of memory); null: nothing. */
  failure: string | null;
}

/** A guest's floor search: how to boot it at a size, load it, and stop it; the range in MiB. */
export interface FloorSearch<Booted extends { baseUrl: string }> {
  /** "the unikernel", "the micro-VM": names the guest in the error when the top of the range fails. */
  guest: string;
  /** A size below the range, taken to fail and never booted; the floor found is above it. */
  failsMi: number;
  /** The top of the range, booted first: it must serve. */
  servesMi: number;
  stepMi: number;
  /** Boots the guest with `memoryMi` of RAM and waits for its first 200; rejects when it does not. */
  boot: (memoryMi: number) => Promise<Booted>;
  /** As the bench's quick run loads it: 10 s of /api/light, then the floor's /api/heavy. */
  serve: (booted: Booted, memoryMi: number) => Promise<FloorTrial>;
  stop: () => Promise<unknown>;
  say: (line: string) => void;
}

/** Per-request deadline of the check that the guest still answers after the loads. */
const ALIVE_TIMEOUT_MS = 30_000;

/**
 * The smallest guest RAM, in `stepMi` steps, that boots and serves the loads with no error and is
 * still answering /health after them: a binary search between a size that fails and one that serves.
 */
export async function searchFloor<Booted extends { baseUrl: string }>(search: FloorSearch<Booted>): Promise<number> {
  const { say, stepMi } = search;
  const connections = MODE_DEFAULTS.quick.connections;
  const serves = async (memoryMi: number): Promise<boolean> => {
    try {
      let booted: Booted;
      try {
        booted = await search.boot(memoryMi);
      } catch (error) {
        say(`floor: ${memoryMi} MiB does not boot (${(error as Error).message.split("\n").slice(-1)[0]})`);
        return false;
      }
      const trial = await search.serve(booted, memoryMi);
      const healthy = await fetch(`${booted.baseUrl}/health`, { signal: AbortSignal.timeout(ALIVE_TIMEOUT_MS) }).then((r) => r.ok, () => false);
      const ok = trial.errors === 0 && trial.failure === null && trial.lightRequests > 0 && trial.heavyRequests > 0 && healthy;
      say(
        `floor: ${memoryMi} MiB ${ok ? "serves" : "fails"} (${connections} connections: light ${trial.lightRequests} requests, heavy ${trial.heavyRequests}, ${trial.errors} errors` +
          `${trial.failure === null ? "" : `, ${trial.failure}`}${healthy ? "" : ", dead after the load"})`,
      );
      return ok;
    } catch (error) {
      say(`floor: ${memoryMi} MiB fails (${(error as Error).message.split("\n").slice(-1)[0]})`);
      return false;
    } finally {
      await search.stop();
    }
  };
  let fails = search.failsMi;
  let servesAt = search.servesMi;
  if (!(await serves(servesAt))) throw new Error(`${search.guest} does not serve at ${servesAt} MiB; nothing to search`);
  let failsTried = false;
  while (servesAt - fails > stepMi) {
    const middle = fails + Math.floor((servesAt - fails) / 2 / stepMi) * stepMi;
    if (await serves(middle)) servesAt = middle;
    else [fails, failsTried] = [middle, true];
  }
  say(`memory floor: ${servesAt} MiB (${fails} MiB ${failsTried ? "fails" : "is below the searched range, not booted"})`);
  return servesAt;
}
