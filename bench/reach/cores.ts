/**
 * Which cores the load generator gets: ones no measured variant may run on, so the generator
 * never takes CPU from the server it measures (pure).
 */
import { cpuListCores } from "../../model/config/variants";

/** Cores a container may run on: its cpuset, or every host core when the cpuset is empty. */
export function allowedCores(cpuset: string, hostCores: number): number[] {
  const all = Array.from({ length: hostCores }, (_, core) => core);
  if (cpuset.trim() === "") return all;
  return (cpuListCores(cpuset.trim()) ?? all).filter((core) => core < hostCores);
}

/**
 * Cores only the variant should use during a run: its own cpuset, when that leaves the host other
 * cores and the generator is pinned off it; null when other work of the bench shares them.
 */
export function variantOwnCores(variantCpuset: string, generatorCpuset: string | null, hostCores: number): number[] | null {
  const own = allowedCores(variantCpuset, hostCores);
  if (own.length === hostCores || generatorCpuset === null) return null;
  const generator = allowedCores(generatorCpuset, hostCores);
  return generator.some((core) => own.includes(core)) ? null : own;
}

/** "0-2,5" style list for --cpuset-cpus and for people. */
export function formatCpuList(cores: readonly number[]): string {
  const ranges: string[] = [];
  let start = -1;
  let previous = -2;
  const flush = () => {
    if (start >= 0) ranges.push(start === previous ? `${start}` : `${start}-${previous}`);
  };
  for (const core of [...cores].sort((a, b) => a - b)) {
    if (core !== previous + 1) {
      flush();
      start = core;
    }
    previous = core;
  }
  flush();
  return ranges.join(",");
}

/** CPUs a container can really use: its quota, capped by the cores its cpuset leaves it. */
export function enforcedCpus(quotaCpus: number | null, cpuset: string, hostCores: number): number {
  const cores = allowedCores(cpuset, hostCores).length;
  return quotaCpus === null ? cores : Math.min(quotaCpus, cores);
}

export interface VariantCores {
  name: string;
  /** The container's cpuset as the engine reports it ("" = any core). */
  cpuset: string;
  cpus: number;
  /** How to leave the generator a core of its own (default: a cpuset in the stack config). */
  remedy?: string;
}

const CPUSET_REMEDY = "Give it a `cpuset` in the stack config that leaves a core free (e.g. cpuset: \"0\" on a 2-core machine, with cpus ≤ 1)";

export interface GeneratorCores {
  /** Cores to pin the generator to; null when none is free of the variant (figures not comparable). */
  cores: number[] | null;
  /** Why this variant cannot be measured here (null when it can). */
  clash: string | null;
}

/**
 * One core set for the whole session when some cores are free of every variant (the same
 * generator for all); otherwise, per variant, the cores that variant may not use.
 */
export function planGeneratorCores(hostCores: number, variants: readonly VariantCores[]): Map<string, GeneratorCores> {
  const used = new Set(variants.flatMap((v) => allowedCores(v.cpuset, hostCores)));
  const all = Array.from({ length: hostCores }, (_, core) => core);
  const sessionFree = all.filter((core) => !used.has(core));
  const plan = new Map<string, GeneratorCores>();
  for (const v of variants) {
    const own = allowedCores(v.cpuset, hostCores);
    const free = sessionFree.length > 0 ? sessionFree : all.filter((core) => !own.includes(core));
    if (free.length > 0) {
      plan.set(v.name, { cores: free, clash: null });
      continue;
    }
    const where = v.cpuset === "" ? `any of the ${hostCores} cores (no cpuset)` : `cores ${v.cpuset}, all ${hostCores} of this machine's`;
    plan.set(v.name, {
      cores: null,
      clash:
        `not measurable here: ${v.name} (${v.cpus} CPU${v.cpus === 1 ? "" : "s"}) may run on ${where}, so the load generator would take CPU from the server it measures. ` +
        `${v.remedy ?? CPUSET_REMEDY}, or measure on a machine with more cores.`,
    });
  }
  return plan;
}
