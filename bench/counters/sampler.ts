/** Samples a server's CPU counter and memory while a run lasts: a container's, or a QEMU process's. */
import * as fs from "fs";
import { CgroupFiles, readCpuNs, readMemoryBytes } from "./cgroup";
import { cpuUsageNs, DockerEngine, memoryInUseBytes } from "./docker";
import { statCpuSeconds, statusRssBytes } from "./proc";
import { RunResult, VariantResult } from "../schema";

export type ServerUsage = NonNullable<RunResult["server"]>;

/** Where a server's counters are read from. */
export interface ServerCounters {
  source: NonNullable<VariantResult["statsSource"]>;
  read(): Promise<{ cpuNs: number | null; memoryBytes: number | null }>;
}

export function cgroupCounters(files: CgroupFiles): ServerCounters {
  return { source: "cgroup", read: async () => ({ cpuNs: readCpuNs(files), memoryBytes: readMemoryBytes(files) }) };
}

/** Fallback when the cgroup files are out of reach (remote engine, private cgroup namespace). */
export function engineCounters(engine: DockerEngine, containerId: string): ServerCounters {
  return {
    source: "engine",
    read: async () => {
      const stats = await engine.stats(containerId);
      return { cpuNs: cpuUsageNs(stats), memoryBytes: memoryInUseBytes(stats) };
    },
  };
}

/**
 * A process seen from the host, e.g. QEMU running the unikernel (no cgroup of its own, invisible to
 * the engine): utime + stime, and the resident size now, which the sampler turns into the run's peak.
 */
export function processCounters(pid: number): ServerCounters {
  return {
    source: "process",
    read: async () => ({
      cpuNs: statCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, "utf8")) * 1e9,
      memoryBytes: statusRssBytes(fs.readFileSync(`/proc/${pid}/status`, "utf8")),
    }),
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
export async function startServerSampling(counters: ServerCounters, intervalMs: number): Promise<ServerSampling> {
  const first = await counters.read();
  const cpuStart = first.cpuNs;
  if (cpuStart === null) throw new Error(`no CPU counter for the server (${counters.source})`);
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
      if (last.cpuNs === null) throw new Error(`the CPU counter of the server vanished (${counters.source})`);
      peakBytes = Math.max(peakBytes, last.memoryBytes ?? 0);
      return { cpuSeconds: Math.max(0, last.cpuNs - cpuStart) / 1e9, peakMemoryMb: peakBytes / 1024 / 1024, samples: samples + 1 };
    },
  };
}
