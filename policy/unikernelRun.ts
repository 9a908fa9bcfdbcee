import { memoryMiB, parseKraftRun, parsePortSpec } from "./kraft";
import { parseForward, parseQemuStart, qemuMemoryMiB } from "./qemu";

type PublishedPort = { ip?: string; hostPort: number; protocol: string };

/** A command that runs the unikernel, by either builder, as the policies see it. */
export interface UnikernelRun {
  /** `kraft run` or `qemu.sh start`, for messages. */
  tool: string;
  /** The flag that sets guest memory, and how a stack's config fills it, for messages. */
  memoryFlag: string;
  memoryFix: string;
  /** The memory value as written; undefined when the flag is absent. */
  memory?: string;
  /** That value in MiB; undefined when absent or unreadable. */
  memoryMi?: number;
  ports: PublishedPort[];
}

/** How each builder's run command is read: its parser, and how its memory and port values are written. */
const SYNTAXES = [
  { tool: "kraft run", memoryFlag: "-M/--memory", memoryFix: "pass `-M <optivolt:unikernel.memoryMi>Mi`", parse: parseKraftRun, toMiB: memoryMiB, toPort: parsePortSpec },
  {
    tool: "qemu.sh start",
    memoryFlag: "--memory",
    memoryFix: "pass `--memory <optivolt:unikernel.memoryMi>` (whole MiB)",
    parse: parseQemuStart,
    toMiB: qemuMemoryMiB,
    toPort: parseForward,
  },
];

/** The unikernel run in a command resource's `create` script; undefined when it runs none. */
export function unikernelRunOf(create: string): UnikernelRun | undefined {
  for (const { parse, toMiB, toPort, ...syntax } of SYNTAXES) {
    const run = parse(create);
    if (run === undefined) continue;
    const ports = run.ports.map(toPort).filter((port): port is PublishedPort => port !== undefined);
    return { ...syntax, memory: run.memory, memoryMi: run.memory === undefined ? undefined : toMiB(run.memory), ports };
  }
  return undefined;
}
