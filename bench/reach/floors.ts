/**
 * Each rung's memory floor as the stack config states it (model/config), with where the figure was
 * measured, so the report's ladder can set it beside the memory the rung used, and a --target
 * container's runtime from the same config (pure, but for reading the stack file in floorsConfig).
 */
import { LabConfig, loadStackConfig, memoryFloorMb, MICROVM_MEMORY_FLOOR_MB } from "../../model/config";
import { UsageError } from "../errors";
import { UNIKERNEL_DEFAULT_MEMORY_MI } from "../../model/config/unikernel";
import { GuestKind, MemoryFloor } from "../schema";

/** A container's floor: one app process's peak resident set under mixed load, plus headroom. */
const CONTAINER_FLOOR_SOURCE =
  "MEMORY_FLOORS_MB (model/config/variants.ts): one app process's peak resident set under 10 s of /api/light + /api/heavy, +25 %, measured by tests/integration/memoryFloor.test.ts (docs/deploy.md, \"Memory floors\")";
/** The unikernel's floor: the smallest guest RAM that serves the bench's load under TCG. */
const UNIKERNEL_FLOOR_SOURCE =
  "UNIKERNEL_DEFAULT_MEMORY_MI (model/config/unikernel.ts): the smallest guest RAM, in 32 MiB steps, serving 10 s of /api/light then 30 s of /api/heavy with no error, measured by `npm run unikernel:targets -- --floor` (docs/unikernel.md)";

/** The micro-VM's floor: the smallest guest RAM that serves the same load, searched as the unikernel's. */
const MICROVM_FLOOR_SOURCE =
  "MICROVM_MEMORY_FLOOR_MB (model/config/microvm.ts): the smallest guest RAM, in 32 MiB steps from 96 to 256 MiB, booting from its disk and serving 10 s of /api/light then 30 s of /api/heavy with no error, searched by `npm run vm:targets -- --floor` (docs/microvm.md)";

/** The stack config the floors are read from, or why there is none. */
export type FloorsConfig = { stack: string; config: LabConfig } | { why: string };

/**
 * Reads the stack config the floors come from. A bad `--floors` is a usage error; the --stack's
 * own file, when it cannot be read here, costs the floors, not the session.
 */
export function floorsConfig(floors: { stack: string; explicit: boolean } | null, projectDir?: string): FloorsConfig {
  if (floors === null) return { why: "no stack config read (give --floors STACK with --target)" };
  try {
    return { stack: floors.stack, config: loadStackConfig(floors.stack, projectDir) };
  } catch (err) {
    const why = `Pulumi.${floors.stack}.yaml could not be read: ${(err as Error).message.split("\n")[0]}`;
    if (floors.explicit) throw new UsageError(`--floors ${floors.stack}: ${why}`);
    return { why };
  }
}

/**
 * The floor of the variant `name` in this stack config: a container variant's by its image target
 * and runtime, the unikernel's by its measured default; null mb with the reason when the config
 * states none (or none was read).
 */
export function memoryFloorOf(name: string, guest: GuestKind | null, floors: FloorsConfig): MemoryFloor {
  if ("why" in floors) return { mb: null, source: floors.why };
  const { config, stack } = floors;
  if (guest === "unikernel") return { mb: UNIKERNEL_DEFAULT_MEMORY_MI, source: UNIKERNEL_FLOOR_SOURCE };
  if (guest === "microvm") return { mb: MICROVM_MEMORY_FLOOR_MB, source: MICROVM_FLOOR_SOURCE };
  const spec = config.variants[name];
  if (spec === undefined) return { mb: null, source: `Pulumi.${stack}.yaml has no variant ${name}` };
  return { mb: memoryFloorMb(spec.target, spec.runtime), source: CONTAINER_FLOOR_SOURCE };
}

/** The runtime the stack config gives a container variant, for targets that did not say one (`--target`); null when none is known. */
export function runtimeOf(name: string, floors: FloorsConfig): string | null {
  return "why" in floors ? null : (floors.config.variants[name]?.runtime ?? null);
}
