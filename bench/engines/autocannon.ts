/** autocannon as the built-in engine: in-process, so it needs nothing installed (about one core at most). */
import autocannon from "autocannon";
import { LoadEngine, LoadOutcome, LoadRequest } from "./types";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const AUTOCANNON_VERSION = (require("autocannon/package.json") as { version: string }).version;

export function createAutocannonEngine(): LoadEngine {
  return { name: "autocannon", version: AUTOCANNON_VERSION, run: runAutocannon };
}

function runAutocannon(r: LoadRequest): Promise<LoadOutcome> {
  const cpuBefore = process.cpuUsage();
  let partial = false;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: r.url, connections: r.connections, duration: r.durationSeconds, timeout: r.timeoutSeconds, pipelining: r.pipeline ?? 1 },
      (err, result) => {
        r.signal.removeEventListener("abort", stop);
        if (err) {
          reject(new Error(`autocannon failed against ${r.url}: ${(err as Error).message ?? String(err)}`));
          return;
        }
        const cpu = process.cpuUsage(cpuBefore);
        const status4xx5xx = result["4xx"] + result["5xx"];
        resolve({
          durationSeconds: result.duration,
          responses: result["1xx"] + result["2xx"] + result["3xx"] + status4xx5xx,
          bytes: result.throughput.total,
          latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
          errors: { connect: 0, socket: Math.max(0, result.errors - result.timeouts), timeouts: result.timeouts, non2xx: status4xx5xx },
          clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
          clientCores: 1,
          partial,
        });
      },
    );
    const stop = () => {
      partial = true;
      instance.stop();
    };
    r.signal.addEventListener("abort", stop, { once: true });
    if (r.signal.aborted) stop();
  });
}
