/** SVG charts: Vega-Lite specs built from the analysis (pure), rendered headlessly by Vega. */
import { Analysis, unsoundReason, variantTitle } from "./analysis";
import { aggregateRuns } from "./figures";
import { ChartLinks } from "./report";

type Spec = Record<string, unknown>;
export interface ChartSpec {
  file: keyof ChartLinks;
  spec: Spec;
}

/** Panel width: room for a one-line flag ("⚠ not measurable here") over each variant's group. */
const panelWidth = (variants: number) => Math.max(130, 96 * variants);
const PERCENTILES = ["p50", "p90", "p99"] as const;
const EFFICIENCY_METRICS = ["req/s per CPU", "req/s per GB", "req per CPU-s used"];
/** Variants: Tableau 10; metrics and percentiles: a separate palette, so no metric shares a variant's colour. */
const VARIANT_SCHEME = "tableau10";
const METRIC_COLOURS = ["#1b9e77", "#d95f02", "#7570b3"];
/** Bars whose runs were not server-bound and whole get a dashed black outline and a label. */
const SOUND = "server-bound";

interface Bar {
  endpoint: string;
  variant: string;
  value: number;
  /** SOUND, or why not (host-bound, partial, not measurable here). */
  runs: string;
  /** Label above the flagged bar ("" for sound ones). */
  flag: string;
  /** Offset within a variant's group (percentile or metric); absent for one bar per variant. */
  series?: string;
}

/**
 * One bar chart per question: a panel per endpoint (in the report's order), bars per variant
 * (and per series inside a variant when `series` is given), flagged bars outlined and labelled.
 */
function barChart(title: string, yTitle: string, values: Bar[], endpoints: readonly string[], series: { order: readonly string[]; title: string } | null): Spec {
  const colour = series === null
    ? { field: "variant", type: "nominal", sort: null, title: "variant", scale: { scheme: VARIANT_SCHEME } }
    : { field: "series", type: "nominal", sort: series.order, title: series.title, scale: { domain: series.order, range: METRIC_COLOURS } };
  const x = { field: "variant", type: "nominal", title: null, sort: null, axis: { labelAngle: -30 } };
  const offset = series === null ? {} : { xOffset: { field: "series", type: "nominal", sort: series.order } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: "dashed outline and ⚠: runs not server-bound, partial, not measurable here or emulated (no conclusion drawn from them)" },
    data: { values },
    facet: { column: { field: "endpoint", type: "nominal", title: null, sort: [...endpoints] } },
    spec: {
      width: panelWidth(new Set(values.map((v) => v.variant)).size),
      height: 220,
      layer: [
        {
          mark: { type: "bar", tooltip: true, strokeWidth: 1.5 },
          encoding: {
            x,
            ...offset,
            y: { field: "value", type: "quantitative", title: yTitle },
            color: colour,
            stroke: { condition: { test: `datum.runs !== '${SOUND}'`, value: "black" }, value: null },
            strokeDash: { condition: { test: `datum.runs !== '${SOUND}'`, value: [4, 2] }, value: [1, 0] },
          },
        },
        // One flag per variant group, above its tallest bar.
        {
          transform: [
            { joinaggregate: [{ op: "max", field: "value", as: "top" }], groupby: ["endpoint", "variant"] },
            { window: [{ op: "row_number", as: "nth" }], groupby: ["endpoint", "variant"] },
            { filter: "datum.nth === 1 && datum.flag !== ''" },
          ],
          mark: { type: "text", dy: -4, baseline: "bottom", fontSize: 9, color: "#b00" },
          encoding: { x, y: { field: "top", type: "quantitative" }, text: { field: "flag" } },
        },
        // Invisible points 25 % above each bar: head-room so the flags stay inside the panel.
        {
          transform: [{ calculate: "datum.value * 1.25", as: "headroom" }],
          mark: { type: "point", opacity: 0 },
          encoding: { x, y: { field: "headroom", type: "quantitative" } },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

/** The specs worth drawing for these results (none when nothing was measured). */
export function chartSpecs(a: Analysis): ChartSpec[] {
  if (a.measured.length === 0) return [];
  const cells = a.endpoints.flatMap((endpoint) =>
    a.measured.flatMap((v) => {
      const c = a.cell(v.name, endpoint);
      return c === undefined ? [] : [{ endpoint, variant: variantTitle(v), c, runs: c.unsound ?? SOUND, flag: c.unsound === null ? "" : `⚠ ${c.unsound}` }];
    }),
  );
  const specs: ChartSpec[] = [
    {
      file: "throughput",
      spec: barChart("Successful req/s (median over repetitions)", "req/s", cells.map(({ endpoint, variant, c, runs, flag }) => ({ endpoint, variant, value: c.figures.rps.median, runs, flag })), a.endpoints, null),
    },
    {
      file: "latency",
      spec: barChart(
        "Latency percentiles (ms)",
        "ms",
        cells.flatMap(({ endpoint, variant, c, runs, flag }) => PERCENTILES.map((p) => ({ endpoint, variant, series: p, value: c.figures.latencyMs[p], runs, flag }))),
        a.endpoints,
        { order: PERCENTILES, title: "percentile" },
      ),
    },
  ];
  const efficiencyValues = cells.flatMap(({ endpoint, variant, c, runs, flag }) =>
    [
      { series: EFFICIENCY_METRICS[0], value: c.relative.rpsPerCpu },
      { series: EFFICIENCY_METRICS[1], value: c.relative.rpsPerGb },
      { series: EFFICIENCY_METRICS[2], value: c.relative.requestsPerCpuSecond },
    ]
      .filter((m): m is { series: string; value: number } => m.value !== null)
      .map((m) => ({ endpoint, variant, runs, flag, ...m })),
  );
  // Ratios to the baseline say nothing with the baseline alone.
  if (a.measured.length > 1 && efficiencyValues.length > 0) {
    specs.push({
      file: "efficiency",
      spec: barChart(`Efficiency relative to ${a.baseline} (1 = same)`, "× baseline", efficiencyValues, a.endpoints, { order: EFFICIENCY_METRICS, title: "metric" }),
    });
  }
  if (a.results.settings.mode === "stress") {
    const values = a.measured.flatMap((v) =>
      aggregateRuns(v).map((f) => ({ endpoint: f.endpoint, variant: variantTitle(v), connections: f.connections, rps: f.rps.median, runs: unsoundReason(f, v) === null ? SOUND : "flagged" })),
    );
    const x = { field: "connections", type: "quantitative", scale: { type: "log", base: 2 } };
    const y = { field: "rps", type: "quantitative", title: "req/s" };
    const colour = { field: "variant", type: "nominal", sort: null, scale: { scheme: VARIANT_SCHEME } };
    specs.push({
      file: "stress",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
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
              encoding: {
                x,
                y,
                color: colour,
                shape: { field: "runs", type: "nominal", title: "runs", scale: { domain: [SOUND, "flagged"], range: ["circle", "cross"] } },
              },
            },
          ],
        },
        resolve: { scale: { y: "independent" } },
      },
    });
  }
  return specs;
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
export async function renderSvgs(specs: readonly ChartSpec[]): Promise<{ file: keyof ChartLinks; svg: string }[]> {
  if (specs.length === 0) return [];
  const vega = await loadVega();
  const out: { file: keyof ChartLinks; svg: string }[] = [];
  for (const { file, spec } of specs) {
    const view = new vega.View(vega.parse(vega.compile(spec).spec), { renderer: "none" });
    out.push({ file, svg: await view.toSVG() });
  }
  return out;
}
