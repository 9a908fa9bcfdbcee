/**
 * The machine's own noise, measured beside the server's: a fixed CPU-bound reference workload timed
 * on the measured cores, the hypervisor's steal time, and other processes' use of the variant's cores. When either moves, a change in req/s may
 * be the machine's, not the server's.
 */
import { execFile } from "child_process";
import { commandOnPath } from "../../tooling/hostProbes";

/** SHA-256 of a 1 KiB buffer, this many times: about 0.1 s of one core on the 2-core CI VM. */
export const REFERENCE_ROUNDS = 40_000;

/** A run is flagged when its reference took this much longer than the session's fastest. */
export const REFERENCE_BOUND = 0.25;

/** A run is flagged when more than this share of the host's CPU time was stolen during it. */
export const STEAL_BOUND = 0.05;

/**
 * A run is flagged when anything but the server used more than this share of the variant's own
 * cores during it (the bench's sampler and the engine's housekeeping stay well under it).
 */
export const OTHERS_BOUND = 0.1;

const SCRIPT =
  `const c=require("crypto");const b=Buffer.alloc(1024,1);const t=process.hrtime.bigint();` +
  `for(let i=0;i<${REFERENCE_ROUNDS};i++)c.createHash("sha256").update(b).digest();` +
  `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;

/**
 * Milliseconds the reference workload took, pinned with taskset to `cpuset` (the variant's cores;
 * "" = any core); null when it could not run. Only the loop is timed, not Node's start-up.
 */
export function referenceWorkloadMs(cpuset: string): Promise<number | null> {
  const pinned = cpuset !== "" && commandOnPath("taskset");
  const [file, args] = pinned ? ["taskset", ["-c", cpuset, process.execPath, "-e", SCRIPT]] : [process.execPath, ["-e", SCRIPT]];
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, stdout) => {
      const ms = Number(stdout);
      resolve(err === null && Number.isFinite(ms) && ms > 0 ? ms : null);
    });
  });
}

export interface MachineFlag {
  /** The run's reference time over the session's fastest, minus 1 (0.3 = 30 % slower); null without readings. */
  referenceSlowdown: number | null;
  steal: number | null;
  others: number | null;
  /** Why the machine moved during the run, or null when it stayed within both bounds. */
  reason: string | null;
}

/** Whether the machine moved during a run, judged against the session's fastest reference reading (pure). */
export function machineFlag(run: { hostSteal: number | null; hostOthers: number | null; referenceMs: number | null }, fastestReferenceMs: number | null): MachineFlag {
  const referenceSlowdown = run.referenceMs === null || fastestReferenceMs === null ? null : run.referenceMs / fastestReferenceMs - 1;
  const reasons: string[] = [];
  if (referenceSlowdown !== null && referenceSlowdown > REFERENCE_BOUND) reasons.push(`reference workload ${Math.round(referenceSlowdown * 100)} % slower than the session's fastest`);
  if (run.hostSteal !== null && run.hostSteal > STEAL_BOUND) reasons.push(`${Math.round(run.hostSteal * 100)} % of CPU time stolen by the hypervisor`);
  if (run.hostOthers !== null && run.hostOthers > OTHERS_BOUND) reasons.push(`${Math.round(run.hostOthers * 100)} % of the variant's cores used by other processes`);
  return { referenceSlowdown, steal: run.hostSteal, others: run.hostOthers, reason: reasons.length === 0 ? null : reasons.join(", ") };
}

/** The fastest reference reading among runs (null when none has one). */
export function fastestReference(runs: readonly { referenceMs: number | null }[]): number | null {
  const readings = runs.map((r) => r.referenceMs).filter((ms): ms is number => ms !== null);
  return readings.length === 0 ? null : Math.min(...readings);
}
