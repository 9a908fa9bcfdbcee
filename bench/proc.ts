/** CPU counters from /proc: a process's CPU time and the whole host's busy share (Linux only). */
import * as fs from "fs";

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

function statFields(pid: number | "self"): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** utime + stime of a process in seconds; null when it is gone or /proc is absent. */
export function processCpuSeconds(pid: number): number | null {
  const f = statFields(pid);
  return f === null ? null : (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** CPU time of this process's waited-for children (cutime + cstime), e.g. wrk after it exits. */
export function reapedChildrenCpuSeconds(): number | null {
  const f = statFields("self");
  return f === null ? null : (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

export interface HostCpuTimes {
  busy: number;
  /** irq + softirq: mostly the kernel moving this benchmark's packets. */
  interrupts: number;
  total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat (busy = all but idle and iowait). */
export function parseHostCpuLine(procStat: string): HostCpuTimes | null {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) return null;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3] + v[4];
  return { busy: total - idle, interrupts: v[5] + v[6], total };
}

export function hostCpuTimes(): HostCpuTimes | null {
  try {
    return parseHostCpuLine(fs.readFileSync("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}

/** Share of all cores, 0..1, that was busy and that went to interrupts between two readings. */
export function hostShares(before: HostCpuTimes | null, after: HostCpuTimes | null): { busy: number; interrupts: number } | null {
  if (before === null || after === null || after.total <= before.total) return null;
  const share = (a: number, b: number) => Math.min(1, Math.max(0, (b - a) / (after.total - before.total)));
  return { busy: share(before.busy, after.busy), interrupts: share(before.interrupts, after.interrupts) };
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
