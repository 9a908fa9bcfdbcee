import * as fs from "fs";
import * as os from "os";

/**
 * CPU quota from cgroup v2's `cpu.max` ("<quota> <period>" or "max <period>"), in CPUs;
 * undefined when unlimited or unreadable.
 */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return quotaRatio(quota, period);
}

/** CPU quota from cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1 = unlimited). */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return quotaRatio(quotaText.trim(), periodText.trim());
}

function quotaRatio(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined || quota === "max") return undefined;
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

/** Reads a file, or undefined when it does not exist (the other cgroup version, or no cgroup fs). */
export type FileReader = (path: string) => string | undefined;

const readIfPresent: FileReader = (path) => {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/**
 * The container's CPU quota in CPUs (e.g. 0.5, 2), from cgroup v2 then v1; undefined when none is set.
 * Inside a container the cgroup namespace makes its own cgroup appear at the root of /sys/fs/cgroup.
 */
export function readCpuQuota(read: FileReader = readIfPresent): number | undefined {
  const v2 = read("/sys/fs/cgroup/cpu.max");
  if (v2 !== undefined) return parseCpuMax(v2);
  for (const dir of ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]) {
    const quota = read(`${dir}/cpu.cfs_quota_us`);
    const period = read(`${dir}/cpu.cfs_period_us`);
    if (quota !== undefined && period !== undefined) return parseCfsQuota(quota, period);
  }
  return undefined;
}

/**
 * Worker processes to run: WORKERS when set, otherwise one per whole CPU of the quota (a fraction
 * above .25 counts as a CPU, so 1.5 CPUs get 2 workers), at least 1 and never more than the CPUs the
 * process may run on (`os.availableParallelism()` sees the host or cpuset, not the quota).
 */
export function workerCount(options: { override?: number; quotaCpus?: number; availableCpus: number }): number {
  if (options.override !== undefined) return options.override;
  const available = Math.max(1, options.availableCpus);
  if (options.quotaCpus === undefined) return available;
  return Math.min(available, Math.max(1, Math.ceil(options.quotaCpus - 0.25)));
}

/** Worker count for this process: WORKERS, else the cgroup quota, else the CPUs available. */
export function detectWorkerCount(override: number | undefined): number {
  return workerCount({ override, quotaCpus: readCpuQuota(), availableCpus: os.availableParallelism() });
}
