/** CPU and memory counters from /proc: a process's CPU time and resident size, the whole host's busy share (Linux only). */
import * as fs from "fs";

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux build. */
export const CLOCK_TICKS = 100;

/** The fields of a /proc/<pid>/stat line after the command name, from field 3 (state) on. */
export function statFieldsOf(text: string): string[] {
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in seconds. */
export function statCpuSeconds(text: string): number {
  const f = statFieldsOf(text);
  const seconds = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  if (!Number.isFinite(seconds)) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  return seconds;
}

/** Value of one `Key:\tvalue` line of /proc/<pid>/status, or null when absent. */
export function statusField(text: string, key: string): string | null {
  const line = text.split("\n").find((l) => l.startsWith(`${key}:`));
  return line === undefined ? null : line.slice(key.length + 1).trim();
}

/**
 * Resident size now (VmRSS, kB → bytes). Not VmHWM: that is the peak over the process's whole
 * life, boot included, so it cannot say what one run cost.
 */
export function statusRssBytes(text: string): number | null {
  const value = statusField(text, "VmRSS");
  const kb = value === null ? NaN : Number(value.replace(/\s*kB$/, ""));
  return Number.isFinite(kb) ? kb * 1024 : null;
}

function readStat(pid: number | "self"): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
}

/** utime + stime of a process in seconds; null when it is gone or /proc is absent. */
export function processCpuSeconds(pid: number): number | null {
  const text = readStat(pid);
  return text === null ? null : statCpuSeconds(text);
}

/** CPU time of this process's waited-for children (cutime + cstime), e.g. wrk after it exits. */
export function reapedChildrenCpuSeconds(): number | null {
  const text = readStat("self");
  if (text === null) return null;
  const f = statFieldsOf(text);
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

export interface HostCpuTimes {
  busy: number;
  /** irq + softirq: mostly the kernel moving this benchmark's packets. */
  interrupts: number;
  /** Time the hypervisor gave this VM's virtual cores to someone else. */
  steal: number;
  total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat (busy = all but idle and iowait). */
export function parseHostCpuLine(procStat: string): HostCpuTimes | null {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) return null;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: total - idle, interrupts: v[5] + v[6], steal: v[7] ?? 0, total };
}

/** The host's CPU times, all cores and each core, from one read of /proc/stat; null when it cannot be read. */
export function hostCpuTimes(): { all: HostCpuTimes | null; perCoreBusy: number[] } | null {
  try {
    const text = fs.readFileSync("/proc/stat", "utf8");
    return { all: parseHostCpuLine(text), perCoreBusy: parsePerCoreBusy(text) };
  } catch {
    return null;
  }
}

/** Share of all cores, 0..1, that was busy, went to interrupts and was stolen by the hypervisor between two readings. */
export function hostShares(before: HostCpuTimes | null, after: HostCpuTimes | null): { busy: number; interrupts: number; steal: number } | null {
  if (before === null || after === null || after.total <= before.total) return null;
  const share = (a: number, b: number) => Math.min(1, Math.max(0, (b - a) / (after.total - before.total)));
  return { busy: share(before.busy, after.busy), interrupts: share(before.interrupts, after.interrupts), steal: share(before.steal, after.steal) };
}

/** Busy seconds (user + nice + system + irq + softirq) of each core, from the `cpuN` lines of /proc/stat; index = core. */
export function parsePerCoreBusy(procStat: string): number[] {
  const busy: number[] = [];
  for (const line of procStat.split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    busy[Number(m[1])] = (v[0] + v[1] + v[2] + v[5] + v[6]) / CLOCK_TICKS;
  }
  return busy;
}

/**
 * Share of `cores` (0..1) that went to anything but the server between two per-core readings:
 * their busy time minus the server's CPU time, over the wall time they offered. Another user's
 * process on the variant's cores shows here, where the reference workload, sampled before the run,
 * can miss it.
 */
export function othersShare(before: readonly number[], after: readonly number[], cores: readonly number[], serverCpuSeconds: number, wallSeconds: number): number | null {
  if (cores.length === 0 || wallSeconds <= 0 || cores.some((c) => before[c] === undefined || after[c] === undefined)) return null;
  const busy = cores.reduce((sum, c) => sum + (after[c] - before[c]), 0);
  return Math.min(1, Math.max(0, (busy - serverCpuSeconds) / (wallSeconds * cores.length)));
}

/** PID of the docker-proxy relaying a published host port (the userland path), if any. */
export function dockerProxyPid(hostPort: number): number | null {
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith("docker-proxy")) continue;
    const at = argv.indexOf("-host-port");
    if (at >= 0 && Number(argv[at + 1]) === hostPort) return Number(pid);
  }
  return null;
}
