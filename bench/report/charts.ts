/** SVG charts: Vega-Lite specs built from the analysis (pure), rendered headlessly by Vega. */
import { Analysis, Cell, unsoundAmongPeers, unsoundReason, variantTitle } from "../numbers/analysis";
import { ACCEL_GROUPS, accelGroup, AccelGroup, LADDER_ENDPOINTS } from "./ladder";
import { aggregateRuns } from "../numbers/figures";
import { budgetText, num, percent } from "../numbers/format";
import { ChartLinks } from "./report";
import { VariantResult } from "../schema";
import { NOISE_SPREAD } from "../numbers/stats";

type Spec = Record<string, unknown>;
export interface ChartSpec {
  file: keyof ChartLinks;
  spec: Spec;
}

export interface ChartOptions {
  /** Fixed top of the throughput axis (req/s), so reports placed side by side share one scale. */
  yMax: number | null;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const PERCENTILES = ["p50", "p90", "p99"] as const;
const EFFICIENCY_METRICS = ["req/s per CPU", "req/s per GiB", "req per CPU-s used"];
/** Variants: Tableau 10; metrics and percentiles: a separate palette, so no metric shares a variant's colour. */
const VARIANT_SCHEME = "tableau10";
const METRIC_COLOURS = ["#1b9e77", "#d95f02", "#7570b3"];
/** Rows above this max/min ratio get a log axis: a 352 req/s bar beside 35,000 would be an invisible sliver. */
const LOG_SCALE_RATIO = 100;
/** Bar length of the horizontal panels: long enough for the values written beside the bars. */
const PANEL_WIDTH = 420;
/** Height of one bar row. */
const ROW_HEIGHT = 22;
/** Every label drawn whole: no ellipsis on axes, legends or titles. */
const CONFIG = { axis: { labelLimit: 0, titleLimit: 0 }, legend: { labelLimit: 0, titleLimit: 0 }, header: { labelLimit: 0 }, title: { limit: 0, subtitleFontSize: 10 } };

/** "microvm (node, 1 CPU, 256 MiB)": the variant with its runtime and budget (MiB, as the stack's memoryMb). */
export function variantLabel(v: Pick<VariantResult, "name" | "provenance" | "runtime" | "budget">): string {
  const parts = [v.runtime, v.budget.cpus === null && v.budget.memoryMb === null ? null : budgetText(v.budget.cpus, v.budget.memoryMb)].filter((p): p is string => p !== null);
  return parts.length === 0 ? variantTitle(v) : `${variantTitle(v)} (${parts.join(", ")})`;
}

interface Bar {
  endpoint: string;
  variant: string;
  value: number;
  /** Lowest and highest repetition (equal to value for one repetition). */
  low: number;
  high: number;
  /** Written beside the bar: the value, and why it is not established when it is not. */
  text: string;
  /** False for "not established" rows: drawn faded, dashed, and said so beside the bar. */
  established: boolean;
  /** Offset within a variant's row (percentile or metric); absent for one bar per variant. */
  series?: string;
}

/** Why a cell's figure is not established, or null: runs not server-bound and whole, or a spread above the noise bound. */
export function notEstablishedReason(c: Cell): string | null {
  const reasons = [c.unsound, c.figures.repetitions > 1 && c.figures.rps.spread > NOISE_SPREAD ? `spread ${percent(c.figures.rps.spread, 0)}` : null].filter((r): r is string => r !== null);
  return reasons.length === 0 ? null : reasons.join(", ");
}

/** Log scale when the positive values span more than LOG_SCALE_RATIO. */
function needsLog(values: readonly number[]): boolean {
  const positive = values.filter((v) => v > 0);
  return positive.length > 1 && Math.max(...positive) / Math.min(...positive) > LOG_SCALE_RATIO;
}

/** A chart that only says why there is nothing to draw. */
export function nothingToCompare(title: string, why: string): Spec {
  return {
    $schema: SCHEMA,
    title: { text: title },
    width: PANEL_WIDTH,
    height: 60,
    data: { values: [{ why: `Nothing to compare: ${why}` }] },
    mark: { type: "text", fontSize: 13, align: "center", baseline: "middle", color: "#b00" },
    encoding: { text: { field: "why" } },
    config: CONFIG,
  };
}

/**
 * Horizontal bars, one panel (row) per endpoint in the report's order, one bar per variant (per
 * series inside a variant when `series` is given), min–max whiskers over repetitions, the value
 * beside each bar, not-established bars faded and dashed.
 */
function barChart(title: string, subtitle: string, axisTitle: string, values: Bar[], endpoints: readonly string[], series: readonly string[] | null, options: { yMax: number | null; log: boolean }): Spec {
  const variants = new Set(values.map((v) => v.variant)).size;
  const perVariant = series === null ? 1 : series.length;
  // A log axis gets whole decades around the data: Vega's own log domain can start at 0 and draw nothing.
  const positive = values.flatMap((v) => [v.low, v.value, v.high]).filter((v) => v > 0);
  const decades = [10 ** Math.floor(Math.log10(Math.min(...positive))), 10 ** Math.ceil(Math.log10(Math.max(...positive)))];
  const top = options.yMax ?? null;
  const scale = options.log
    ? { type: "log", domain: [decades[0], top ?? decades[1]], clamp: true, nice: false }
    : top === null ? {} : { domain: [0, top], clamp: true };
  const x = { field: "value", type: "quantitative", title: axisTitle + (options.log ? " — log scale: rows differ by more than 100×" : "") + (options.yMax === null ? "" : ` — axis fixed at ${num(options.yMax)}`), scale };
  const y = { field: "variant", type: "nominal", title: null, sort: null };
  const offset = series === null ? {} : { yOffset: { field: "series", type: "nominal", sort: series } };
  const colour = series === null
    ? { field: "variant", type: "nominal", sort: null, legend: null, scale: { scheme: VARIANT_SCHEME } }
    : { field: "series", type: "nominal", sort: series, title: "series", scale: { domain: series, range: METRIC_COLOURS } };
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: [subtitle, "faded, dashed and marked ⚠: not established (runs not server-bound or whole, emulated, or spread above 10 %)"] },
    data: { values },
    facet: { row: { field: "endpoint", type: "nominal", title: null, sort: [...endpoints], header: { labelAngle: 0, labelAlign: "left", labelFontWeight: "bold" } } },
    spec: {
      width: PANEL_WIDTH,
      height: ROW_HEIGHT * variants * perVariant,
      layer: [
        {
          mark: { type: "bar", tooltip: true, strokeWidth: 1.5 },
          encoding: {
            x,
            y,
            ...offset,
            color: colour,
            opacity: { condition: { test: "datum.established", value: 1 }, value: 0.4 },
            stroke: { condition: { test: "!datum.established", value: "black" }, value: null },
            strokeDash: { condition: { test: "!datum.established", value: [4, 2] }, value: [1, 0] },
          },
        },
        // Spread: min–max over the repetitions.
        {
          transform: [{ filter: "datum.high > datum.low" }],
          mark: { type: "rule", color: "black", strokeWidth: 1.5 },
          encoding: { x: { ...x, field: "low" }, x2: { field: "high" }, y, ...offset },
        },
        {
          transform: [{ filter: "datum.high > datum.low" }, { fold: ["low", "high"], as: ["end", "at"] }],
          mark: { type: "tick", color: "black", thickness: 1.5, size: 8 },
          encoding: { x: { ...x, field: "at" }, y, ...offset },
        },
        // The value (and the not-established mark) beside the bar, past its whisker.
        {
          transform: [{ calculate: "max(datum.value, datum.high)", as: "end" }],
          mark: { type: "text", align: "left", dx: 4, fontSize: 10, limit: 0 },
          encoding: { x: { ...x, field: "end" }, y, ...offset, text: { field: "text" }, color: { condition: { test: "!datum.established", value: "#b00" }, value: "black" } },
        },
      ],
    },
    // Room on the right of each panel for the text beside the longest bar.
    resolve: { scale: { x: options.yMax === null ? "independent" : "shared" } },
    config: CONFIG,
  };
}

/** A bar's text: "35,000 req/s" plus "⚠ not established: spread 47 %" when it is not. */
function barText(value: string, reason: string | null): string {
  return reason === null ? value : `${value} ⚠ not established: ${reason}`;
}

/** The specs worth drawing for these results (none when nothing was measured). */
export function chartSpecs(a: Analysis, options: ChartOptions = { yMax: null }): ChartSpec[] {
  if (a.measured.length === 0) return [];
  const cells = a.endpoints.flatMap((endpoint) =>
    a.measured.flatMap((v) => {
      const c = a.cell(v.name, endpoint);
      return c === undefined ? [] : [{ endpoint, v, variant: variantLabel(v), c, reason: notEstablishedReason(c) }];
    }),
  );
  const rps = cells.map(({ endpoint, variant, c, reason }) => ({
    endpoint,
    variant,
    value: c.figures.rps.median,
    low: c.figures.rps.min,
    high: c.figures.rps.max,
    text: barText(`${num(c.figures.rps.median)} req/s${c.figures.repetitions > 1 ? ` (${c.figures.repetitions} runs, spread ${percent(c.figures.rps.spread, 0)})` : " (1 run)"}`, reason),
    established: reason === null,
  }));
  const latency = cells.flatMap(({ endpoint, variant, c, reason }) =>
    PERCENTILES.map((p) => ({ endpoint, variant, series: p, value: c.figures.latencyMs[p], low: c.figures.latencyMs[p], high: c.figures.latencyMs[p], text: barText(`${p} ${num(c.figures.latencyMs[p])} ms`, p === "p99" ? reason : null), established: reason === null })),
  );
  const specs: ChartSpec[] = [
    {
      file: "throughput",
      spec: barChart("Successful req/s (median over repetitions)", "whiskers: lowest to highest repetition", "req/s", rps, a.endpoints, null, { yMax: options.yMax, log: needsLog(rps.map((b) => b.value)) }),
    },
    {
      file: "latency",
      spec: barChart("Latency percentiles (ms)", "median over repetitions", "ms", latency, a.endpoints, PERCENTILES, { yMax: null, log: needsLog(latency.map((b) => b.value)) }),
    },
  ];
  specs.push({ file: "efficiency", spec: efficiencyChart(a, cells) });
  const ladder = ladderChart(a);
  if (ladder !== null) specs.push({ file: "ladder", spec: ladder });
  if (a.results.settings.mode === "stress") specs.push({ file: "stress", spec: stressChart(a) });
  return specs;
}

function efficiencyChart(a: Analysis, cells: readonly { endpoint: string; v: VariantResult; variant: string; c: Cell; reason: string | null }[]): Spec {
  const title = `Efficiency relative to ${a.baseline} (1 = same)`;
  const values = cells.flatMap(({ endpoint, v, variant, c, reason }) =>
    [
      { series: EFFICIENCY_METRICS[0], value: c.relative.rpsPerCpu },
      { series: EFFICIENCY_METRICS[1], value: c.relative.rpsPerGb },
      { series: EFFICIENCY_METRICS[2], value: c.relative.requestsPerCpuSecond },
    ]
      .filter((m): m is { series: string; value: number } => m.value !== null && v.name !== a.baseline)
      .map((m) => ({ endpoint, variant, ...m, low: m.value, high: m.value, text: barText(`×${m.value.toFixed(2)}`, reason), established: reason === null })),
  );
  if (values.length === 0) {
    const others = cells.filter(({ v }) => v.name !== a.baseline);
    const why = others.length === 0
      ? `only ${a.baseline} was measured; ratios to the baseline need a second variant`
      : `no ratio to ${a.baseline} for ${[...new Set(others.map(({ v }) => v.name))].join(", ")} (emulated or without a budget: not comparable with the baseline)`;
    return nothingToCompare(title, why);
  }
  const shown = new Set(values.map((v) => v.variant));
  const left = [...new Set(cells.filter(({ v, variant }) => v.name !== a.baseline && !shown.has(variant)).map(({ v }) => v.name))];
  const leftOut = left.length === 0 ? "" : `; not shown: ${left.join(", ")} (emulated or without a budget: no ratio to ${a.baseline})`;
  return barChart(title, `ratios of each variant to the baseline on the same endpoint; per GiB divides by the memory budget in MiB / 1024${leftOut}`, "× baseline", values, a.endpoints, EFFICIENCY_METRICS, { yMax: null, log: false });
}

const GROUP_LABEL: Record<AccelGroup, string> = {
  native: "Native: containers and KVM guests",
  tcg: "Emulated (TCG): compared only with each other",
  unknown: "QEMU, acceleration unknown: compared with nothing",
};

/**
 * The ladder: requests per CPU-second each rung used, one block per acceleration stacked top to
 * bottom (each with its own scales), one panel per ladder endpoint, so a rung is drawn only beside
 * rungs it may be compared with; null when no rung has the figure.
 */
function ladderChart(a: Analysis): Spec | null {
  const blocks = ACCEL_GROUPS.flatMap((group) => {
    const rungs = a.measured.filter((v) => accelGroup(v) === group);
    const values = LADDER_ENDPOINTS.flatMap((endpoint) =>
      rungs.flatMap((v) => {
        const c = a.cell(v.name, endpoint);
        const value = c?.efficiency.requestsPerCpuSecond ?? null;
        if (c === undefined || value === null) return [];
        const f = c.figures;
        const reason = [unsoundAmongPeers(f, v), f.repetitions > 1 && f.rps.spread > NOISE_SPREAD ? `spread ${percent(f.rps.spread, 0)}` : null].filter((r): r is string => r !== null).join(", ") || null;
        const runs = f.repetitions > 1 ? ` (${f.repetitions} runs, req/s spread ${percent(f.rps.spread, 0)})` : " (1 run)";
        return [{ endpoint, variant: variantLabel(v), value, low: value, high: value, text: barText(`${num(value)} req/CPU-s${runs}`, reason), established: reason === null }];
      }),
    );
    if (values.length === 0) return [];
    const endpoints = LADDER_ENDPOINTS.filter((e) => values.some((v) => v.endpoint === e));
    const { $schema: _schema, config: _config, ...block } = barChart(GROUP_LABEL[group], "one panel per endpoint", "successful requests per CPU-second the server used", values, endpoints, null, { yMax: null, log: false });
    return [block];
  });
  if (blocks.length === 0) return null;
  return {
    $schema: SCHEMA,
    title: { text: "The ladder: requests per CPU-second used, per rung", subtitle: "one block per acceleration: rungs are compared only with rungs under the same acceleration" },
    vconcat: blocks,
    config: CONFIG,
  };
}

function stressChart(a: Analysis): Spec {
  const values = a.measured.flatMap((v) =>
    aggregateRuns(v).map((f) => ({ endpoint: f.endpoint, variant: variantLabel(v), connections: f.connections, rps: f.rps.median, runs: unsoundReason(f, v) === null ? "server-bound" : "flagged" })),
  );
  const x = { field: "connections", type: "quantitative", scale: { type: "log", base: 2 } };
  const log = needsLog(values.map((v) => v.rps));
  const y = { field: "rps", type: "quantitative", title: log ? "req/s — log scale: rows differ by more than 100×" : "req/s", ...(log ? { scale: { type: "log" } } : {}) };
  const colour = { field: "variant", type: "nominal", sort: null, scale: { scheme: VARIANT_SCHEME } };
  return {
    $schema: SCHEMA,
    title: { text: "Successful req/s against concurrency", subtitle: "crosses (flagged): steps whose runs were not server-bound, were partial, not measurable here or emulated" },
    data: { values },
    facet: { column: { field: "endpoint", type: "nominal", title: null, sort: [...a.endpoints] } },
    spec: {
      width: 220,
      height: 200,
      layer: [
        { mark: { type: "line" }, encoding: { x, y, color: colour } },
        {
          mark: { type: "point", filled: true, size: 60, tooltip: true },
          encoding: { x, y, color: colour, shape: { field: "runs", type: "nominal", title: "runs", scale: { domain: ["server-bound", "flagged"], range: ["circle", "cross"] } } },
        },
        { mark: { type: "text", dy: -8, fontSize: 9 }, encoding: { x, y, text: { field: "rps", type: "quantitative", format: ",.0f" } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
    config: CONFIG,
  };
}

// vega and vega-lite are ESM-only with top-level await: CommonJS `require` cannot load them, and
// TypeScript would compile a plain `import()` into `require`, hence this indirection.
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

interface VegaModules {
  compile(spec: Spec): { spec: unknown };
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: "none" }) => { toSVG(): Promise<string> };
}

async function loadVega(): Promise<VegaModules> {
  const vl = (await importEsm("vega-lite")) as Pick<VegaModules, "compile">;
  const vega = (await importEsm("vega")) as Omit<VegaModules, "compile">;
  return { compile: vl.compile, parse: vega.parse, View: vega.View };
}

/** Renders each spec to an SVG string. */
export async function renderSvgs<F extends string>(specs: readonly { file: F; spec: Spec }[]): Promise<{ file: F; svg: string }[]> {
  if (specs.length === 0) return [];
  const vega = await loadVega();
  const out: { file: F; svg: string }[] = [];
  for (const { file, spec } of specs) {
    const view = new vega.View(vega.parse(vega.compile(spec).spec), { renderer: "none" });
    out.push({ file, svg: await view.toSVG() });
  }
  return out;
}
