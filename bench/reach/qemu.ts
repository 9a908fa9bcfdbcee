/**
 * A variant QEMU runs (the source-built unikernel): its process, found from the pid file, is the
 * server the bench samples, since cAdvisor and the Docker cgroups never see it.
 */
import * as fs from "fs";
import { BenchError } from "../errors";
import { statusField } from "../counters/proc";
import { QemuTarget } from "./targets";

/** What the host shows of the process a pid file names (null entries: not there). */
export interface PidFileView {
  /** The pid file's text; null when it does not exist. */
  pidText: string | null;
  /** /proc/<pid>/comm of the pid it names; null when no such process runs. */
  comm: string | null;
}

const FIX = "is the unikernel running? `npm run unikernel -- up`";

/** The pid QEMU runs as, or why the file does not lead to a running QEMU (pure). */
export function qemuPid(name: string, pidFile: string, view: PidFileView): number | string {
  const where = `${name}: QEMU pid file ${pidFile}`;
  if (view.pidText === null) return `${where} does not exist; ${FIX}`;
  const pid = Number(view.pidText.trim());
  if (!Number.isInteger(pid) || pid <= 0) return `${where} holds "${view.pidText.trim()}", not a pid; ${FIX}`;
  if (view.comm === null) return `${where} names pid ${pid}, which is not running; ${FIX}`;
  // A stale file may name a pid the system has since given to another program.
  if (!view.comm.includes("qemu")) return `${where} names pid ${pid}, which is \`${view.comm.trim()}\`, not QEMU (a stale pid file); ${FIX}`;
  return pid;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function viewPidFile(pidFile: string): PidFileView {
  const pidText = readOrNull(pidFile);
  const pid = pidText === null ? NaN : Number(pidText.trim());
  return { pidText, comm: Number.isInteger(pid) && pid > 0 ? readOrNull(`/proc/${pid}/comm`) : null };
}

/** The running QEMU's pid; a BenchError (printed without a stack trace) when there is none. */
export function locateQemu(name: string, target: QemuTarget): number {
  const found = qemuPid(name, target.pidFile, viewPidFile(target.pidFile));
  if (typeof found === "string") throw new BenchError(found);
  return found;
}

/** Null while QEMU runs, else what became of it (for a run that loses its server). */
export function qemuStopped(pid: number): string | null {
  const comm = readOrNull(`/proc/${pid}/comm`);
  return comm !== null && comm.includes("qemu") ? null : `QEMU (pid ${pid}) exited`;
}

/** Cores QEMU's main thread may run on, from /proc/<pid>/status ("" when unreadable: any core). */
export function qemuCpuset(pid: number): string {
  const status = readOrNull(`/proc/${pid}/status`);
  return status === null ? "" : (statusField(status, "Cpus_allowed_list") ?? "");
}
