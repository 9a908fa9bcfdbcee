import * as fs from "fs";
import * as path from "path";
import { CgroupFiles, locateCgroup, readCpuNs, readMemoryBytes } from "../../../bench/counters/cgroup";
import { docker, inspectContainer } from "../../../tooling/docker";

/** The cgroup files of a running container, located from its init process like the bench does. */
export async function containerCgroup(id: string): Promise<CgroupFiles> {
  const pid = (await inspectContainer(id)).State.Pid;
  const files = locateCgroup(pid);
  if (files === null) throw new Error(`cannot read the cgroup files of container ${id} (pid ${pid}) from this host`);
  return files;
}

/**
 * Highest memory use the kernel recorded for a running container's cgroup, in bytes (cgroup v1
 * `memory.max_usage_in_bytes` or v2 `memory.peak`).
 */
export async function containerPeakMemoryBytes(id: string): Promise<number> {
  const files = await containerCgroup(id);
  const file = path.join(files.memoryDir, files.version === 1 ? "memory.max_usage_in_bytes" : "memory.peak");
  return Number((await fs.promises.readFile(file, "utf8")).trim());
}

/** CPU time a running container's cgroup has used so far, in seconds. */
export async function containerCpuSeconds(id: string): Promise<number> {
  return readCpuNs(await containerCgroup(id)) / 1e9;
}

/**
 * A running container's working set in bytes, as cAdvisor and `docker stats` count it: memory in
 * use minus inactive page cache (which the kernel reclaims before it would OOM-kill). Unlike the
 * cgroup's recorded peak, it does not count file pages, e.g. the node binary, that the container
 * happened to read first.
 */
export async function containerWorkingSetBytes(id: string): Promise<number> {
  return readMemoryBytes(await containerCgroup(id));
}

/**
 * What became of a container whose cgroup is gone (it exited, or was restarted): its state, exit
 * code, OOM flag and last log lines, for an assertion message.
 */
export async function describeGoneContainer(id: string, logLines = 20): Promise<string> {
  try {
    const { State, RestartCount } = await inspectContainer(id);
    const logs = await docker(["logs", "--tail", String(logLines), id]);
    const tail = `${logs.stdout}${logs.stderr}`.trim() || "(no output)";
    return `container ${id} is ${State.Status} (exit code ${State.ExitCode}, OOM-killed ${State.OOMKilled}, restarts ${RestartCount}); its last ${logLines} log lines:\n${tail}`;
  } catch (error) {
    return `container ${id} no longer exists (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Samples the working set every `intervalMs` until `stop()`, which resolves with the highest value
 * seen. When the container's cgroup vanishes meanwhile (the container died or restarted), `stop()`
 * rejects with what became of the container instead of a cgroup file's ENOENT.
 */
export function sampleWorkingSet(id: string, intervalMs = 100): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  let gone = false;
  const files = containerCgroup(id);
  const read = (cgroup: CgroupFiles): void => {
    try {
      peak = Math.max(peak, readMemoryBytes(cgroup));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      gone = true;
    }
  };
  const loop = (async () => {
    const cgroup = await files;
    while (running && !gone) {
      read(cgroup);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (!gone) read(await files);
      if (gone) throw new Error(`the container's cgroup vanished while its memory was sampled (peak so far ${(peak / 2 ** 20).toFixed(1)} MiB): ${await describeGoneContainer(id)}`);
      return peak;
    },
  };
}
