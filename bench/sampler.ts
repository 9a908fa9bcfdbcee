/** Samples a container's CPU counter and memory from the engine while a run lasts. */
import { cpuUsageNs, DockerEngine, memoryInUseBytes } from "./docker";
import { RunResult } from "./schema";

export type ServerUsage = NonNullable<RunResult["server"]>;

export interface ServerSampling {
  /** Takes the closing reading and returns the window's CPU seconds and peak memory. */
  stop(): Promise<ServerUsage>;
}

/**
 * CPU seconds are the difference of the engine's cumulative counter read at the start and at
 * the end, so they are exact whatever the sampling period; the period only bounds how short a
 * memory peak can be and still be seen.
 */
export async function startServerSampling(engine: DockerEngine, containerId: string, intervalMs: number): Promise<ServerSampling> {
  const first = await engine.stats(containerId);
  const cpuStart = cpuUsageNs(first);
  if (cpuStart === null) throw new Error(`the engine reports no CPU usage for container ${containerId.slice(0, 12)}`);
  let peakBytes = memoryInUseBytes(first) ?? 0;
  let samples = 1;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // One request at a time: a slow engine must not pile up readings.
    inFlight = inFlight.then(async () => {
      try {
        const s = await engine.stats(containerId);
        peakBytes = Math.max(peakBytes, memoryInUseBytes(s) ?? 0);
        samples += 1;
      } catch {
        // a missed sample only coarsens the memory peak; the CPU figure is unaffected
      }
    });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      const last = await engine.stats(containerId);
      const cpuEnd = cpuUsageNs(last);
      if (cpuEnd === null) throw new Error(`the engine stopped reporting CPU usage for container ${containerId.slice(0, 12)}`);
      peakBytes = Math.max(peakBytes, memoryInUseBytes(last) ?? 0);
      return { cpuSeconds: Math.max(0, cpuEnd - cpuStart) / 1e9, peakMemoryMb: peakBytes / 1024 / 1024, samples: samples + 1 };
    },
  };
}
