import type { ImageTarget, Runtime } from "./variants";

/**
 * The least memory, in MB, a variant of each image target can run in: the peak resident set of one
 * app process (1 CPU of quota, so no cluster primary) under 10 s of mixed /api/light + /api/heavy
 * load, plus headroom for the kernel's own accounting and GC timing. Measured on the real engine by
 * tests/integration/memoryFloor.test.ts, which also runs each target *at* its floor under the same
 * load and fails on an OOM kill or an error; docs/deploy.md gives the figures.
 *
 * Keyed by runtime, then image target: a runtime whose images differ (Bun) adds its own row.
 * A variant with more CPUs runs more worker processes and needs more than this floor; the floor
 * only refuses budgets no variant of the target can live in.
 */
export const MEMORY_FLOORS_MB: Record<Runtime, Record<ImageTarget, number>> = {
  // Peak resident sets measured (docs/deploy.md): Node 63-69 MiB, Bun 49-51 MiB for each target;
  // + ~25 %, to a multiple of 8.
  node: { standard: 88, microvm: 88, minimal: 88 },
  bun: { standard: 64, microvm: 64, minimal: 64 },
};

/** The memory floor of a target on a runtime, in MB. */
export function memoryFloorMb(target: ImageTarget, runtime: Runtime = "node"): number {
  return MEMORY_FLOORS_MB[runtime][target];
}
