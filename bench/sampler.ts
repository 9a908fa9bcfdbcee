/** Samples a container's CPU counter and memory while a run lasts. */
import { CgroupFiles, readCpuNs, readMemoryBytes } from "./cgroup";
import { cpuUsageNs, DockerEngine, memoryInUseBytes } from "./docker";
import { RunResult } from "./schema";

export type ServerUsage = NonNullable<RunResult["server"]>;

/** Where a container's counters are read from. */
export interface ContainerCounters {
  source: "cgroup" | "engine";
  read(): Promise<{ cpuNs: number | null; memoryBytes: number | null }>;
}

export function cgroupCounters(files: CgroupFiles): ContainerCounters {
  return { source: "cgroup", read: async () => ({ cpuNs: readCpuNs(files), memoryBytes: readMemoryBytes(files) }) };
}

/** Fallback when the cgroup files are out of reach (remote engine, private cgroup namespace). */
export function engineCounters(engine: DockerEngine, containerId: string): ContainerCounters {
  return {
    source: "engine",
    read: async () => {
      const stats = await engine.stats(containerId);
      return { cpuNs: cpuUsageNs(stats), memoryBytes: memoryInUseBytes(stats) };
    },
  };
}

export interface ServerSampling {
  /** Takes the closing reading and returns the window's CPU seconds and peak memory. */
  stop(): Promise<ServerUsage>;
}

/**
 * CPU seconds are the difference of the cumulative counter read at the start and at the end, so
 * they are exact whatever the sampling period; the period only bounds how short a memory peak
 * can be and still be seen.
 */
export async function startServerSampling(counters: ContainerCounters, intervalMs: number): Promise<ServerSampling> {
  const first = await counters.read();
  const cpuStart = first.cpuNs;
  if (cpuStart === null) throw new Error(`no CPU counter for the container (${counters.source})`);
  let peakBytes = first.memoryBytes ?? 0;
  let samples = 1;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // One reading at a time: a slow engine must not pile up requests.
    inFlight = inFlight.then(async () => {
      try {
        peakBytes = Math.max(peakBytes, (await counters.read()).memoryBytes ?? 0);
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
      const last = await counters.read();
      if (last.cpuNs === null) throw new Error(`the CPU counter of the container vanished (${counters.source})`);
      peakBytes = Math.max(peakBytes, last.memoryBytes ?? 0);
      return { cpuSeconds: Math.max(0, last.cpuNs - cpuStart) / 1e9, peakMemoryMb: peakBytes / 1024 / 1024, samples: samples + 1 };
    },
  };
}
