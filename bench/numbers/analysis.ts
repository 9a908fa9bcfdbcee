/** Everything the report and charts show, derived once from results.json (pure). */
import { efficiency, Efficiency, relativeEfficiency } from "./efficiency";
import { energyPer1000, EnergyFigure } from "./energy";
import { EndpointFigures, figuresByEndpoint } from "./figures";
import { change } from "./format";
import { BenchResults, VariantResult } from "../schema";
import { ratio } from "./stats";

export interface Cell {
  figures: EndpointFigures;
  efficiency: Efficiency;
  /** Ratios to the baseline on the same endpoint (null entries when the baseline lacks the figure). */
  relative: Efficiency & { rps: number | null };
  energy: EnergyFigure;
  /** Null when every run behind the figure was server-bound, whole and comparable; else why not. */
  unsound: string | null;
  /** "3 runs, spread 4 %": what a conclusion drawn from this cell rests on. */
  basis: string;
}

/** The mark of a variant QEMU ran under software emulation (TCG): its speed says little of the guest's code. */
export const EMULATED = "emulated (TCG)";

export const isEmulated = (variant: Pick<VariantResult, "provenance">) => variant.provenance.accel === "tcg";

/** The variant as every table, chart and conclusion names it: "unikernel (emulated: TCG)" for an emulated one. */
export function variantTitle(variant: Pick<VariantResult, "name" | "provenance">): string {
  return isEmulated(variant) ? `${variant.name} (emulated: TCG)` : variant.name;
}

/**
 * Why a figure may not be used for a ratio, ranking or efficiency claim: only whole runs that the
 * server itself limited say something about the server, and an emulated server's speed says
 * nothing of a native one (pure).
 */
export function unsoundReason(figures: EndpointFigures, variant: Pick<VariantResult, "notMeasurable" | "provenance">): string | null {
  const reasons = [isEmulated(variant) ? EMULATED : null, unsoundAmongPeers(figures, variant)].filter((r): r is string => r !== null);
  return reasons.length === 0 ? null : reasons.join(", ");
}

/**
 * Why a figure may not be compared even with a variant under the same acceleration (two emulated
 * guests with each other): runs cut short, not limited by the server, or not measurable here.
 */
export function unsoundAmongPeers(figures: EndpointFigures, variant: Pick<VariantResult, "notMeasurable">): string | null {
  const reasons: string[] = [];
  if (variant.notMeasurable !== null) reasons.push("not measurable here");
  if (figures.partial) reasons.push("partial");
  const other = figures.bottlenecks.filter((b) => b !== "server");
  if (other.length > 0) reasons.push(other.map((b) => (b === "unknown" ? "bottleneck unknown" : b === "unsaturated" ? "unsaturated" : `${b}-bound`)).join("/"));
  return reasons.length === 0 ? null : reasons.join(", ");
}

/** The "vs baseline" text of a ratio: "baseline", "+12 %", or why an emulated and a native variant get none. */
export function versusBaseline(a: Analysis, variant: Pick<VariantResult, "name" | "provenance">, ratio: number | null): string {
  if (variant.name === a.baseline) return "baseline";
  const base = a.results.variants.find((v) => v.name === a.baseline);
  if (base !== undefined && isEmulated(base) !== isEmulated(variant)) return `${EMULATED}: not comparable for speed`;
  return change(ratio);
}

export function basisText(figures: EndpointFigures): string {
  const runs = `${figures.repetitions} run${figures.repetitions === 1 ? "" : "s"}`;
  return figures.repetitions > 1 ? `${runs}, spread ${Math.round(figures.rps.spread * 100)} %` : `${runs}, spread unknown`;
}

export interface Analysis {
  results: BenchResults;
  baseline: string;
  /** Variants with at least one run, in measurement order. */
  measured: VariantResult[];
  endpoints: string[];
  cell(variant: string, endpoint: string): Cell | undefined;
}

export function analyze(results: BenchResults): Analysis {
  const { settings, provenance } = results;
  const measured = results.variants.filter((v) => v.runs.length > 0);
  const raw = new Map<string, Map<string, EndpointFigures>>(measured.map((v) => [v.name, figuresByEndpoint(v)]));
  const byName = new Map(measured.map((v) => [v.name, v]));
  const cells = new Map<string, Cell>();
  const key = (variant: string, endpoint: string) => `${variant}\u0000${endpoint}`;

  for (const v of measured) {
    for (const [endpoint, figures] of raw.get(v.name) ?? []) {
      const own = efficiency(figures, v.budget);
      const baseFigures = raw.get(settings.baseline)?.get(endpoint);
      const baseVariant = byName.get(settings.baseline);
      // No ratio between an emulated variant and a native one: it would read as a speed comparison.
      const comparable = baseVariant !== undefined && isEmulated(baseVariant) === isEmulated(v);
      const base = baseFigures && baseVariant && comparable ? efficiency(baseFigures, baseVariant.budget) : null;
      const none: Efficiency = { rpsPerCpu: null, rpsPerGb: null, requestsPerCpuSecond: null };
      cells.set(key(v.name, endpoint), {
        figures,
        efficiency: own,
        relative: { ...(base === null ? none : relativeEfficiency(own, base)), rps: comparable ? ratio(figures.rps.median, baseFigures?.rps.median ?? null) : null },
        energy: energyPer1000(figures, provenance.energySource, settings.wattsPerCore),
        unsound: unsoundReason(figures, v),
        basis: basisText(figures),
      });
    }
  }
  const endpoints = settings.endpoints.filter((e) => measured.some((v) => cells.has(key(v.name, e))));
  return { results, baseline: settings.baseline, measured, endpoints, cell: (variant, endpoint) => cells.get(key(variant, endpoint)) };
}
