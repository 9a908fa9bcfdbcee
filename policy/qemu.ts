import { argumentsOf, isShellOperator } from "./kraft";

/** What the policies need from the source builder's `qemu.sh start ...` (unikernel/source/qemu.sh). */
export interface QemuStart {
  /** Value of `--memory` (guest RAM in MiB), as written. */
  memory?: string;
  /** Each `--forward ADDRESS:PORT` value (QEMU forwards it to the guest). */
  ports: string[];
}

/** Parses the first `qemu.sh start` of a (possibly multi-line) shell script; undefined when there is none. */
export function parseQemuStart(command: string): QemuStart | undefined {
  const args = argumentsOf(command, /(^|\/)qemu\.sh$/, "start");
  if (args === undefined) return undefined;
  const start: QemuStart = { ports: [] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i];
    // After `--` come the guest's command and its arguments, which may reuse these flag names.
    if (flag === "--" || isShellOperator(flag)) break;
    if (flag === "--memory") start.memory = value();
    else if (flag === "--forward") start.ports.push(value());
  }
  return start;
}

/** qemu.sh takes guest RAM as a whole number of MiB (it passes `-m <N>M`); undefined otherwise. */
export function qemuMemoryMiB(memory: string): number | undefined {
  return /^\d+$/.test(memory) ? Number(memory) : undefined;
}

/** A forward `ADDRESS:PORT` as a published port (QEMU forwards TCP). */
export function parseForward(forward: string): { ip: string; hostPort: number; protocol: string } | undefined {
  const match = /^(.+):(\d+)$/.exec(forward);
  return match ? { ip: match[1], hostPort: Number(match[2]), protocol: "tcp" } : undefined;
}
