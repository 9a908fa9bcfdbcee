/** SVG charts: Vega-Lite specs built from the analysis (pure), rendered headlessly by Vega. */
import { Analysis } from "./analysis";
import { aggregateRuns } from "./figures";
import { ChartLinks } from "./report";

type Spec = Record<string, unknown>;
export interface ChartSpec {
  file: keyof ChartLinks;
  spec: Spec;
}

const WIDTH = 120;
const PERCENTILES = ["p50", "p90", "p99"] as const;
const EFFICIENCY_METRICS = ["req/s per CPU", "req/s per GB", "req per CPU-s used"];

function grouped(title: string, values: object[], y: Spec, extra: Spec = {}): Spec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    width: WIDTH,
    height: 220,
    mark: { type: "bar", tooltip: true },
    encoding: {
      column: { field: "endpoint", type: "nominal", title: null, sort: null },
      x: { field: "variant", type: "nominal", title: null, sort: null },
      y,
      color: { field: "variant", type: "nominal", sort: null },
      ...extra,
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
      return c === undefined ? [] : [{ endpoint, variant: v.name, c }];
    }),
  );
  const specs: ChartSpec[] = [
    {
      file: "throughput",
      spec: grouped("Successful req/s", cells.map(({ endpoint, variant, c }) => ({ endpoint, variant, rps: c.figures.rps.median })), {
        field: "rps",
        type: "quantitative",
        title: "req/s",
      }),
    },
    {
      file: "latency",
      spec: grouped(
        "Latency percentiles (ms)",
        cells.flatMap(({ endpoint, variant, c }) =>
          PERCENTILES.map((percentile) => ({ endpoint, variant, percentile, ms: c.figures.latencyMs[percentile] })),
        ),
        { field: "ms", type: "quantitative", title: "ms" },
        { xOffset: { field: "percentile", type: "nominal", sort: PERCENTILES }, opacity: { field: "percentile", type: "nominal", sort: PERCENTILES, scale: { range: [1, 0.7, 0.4] } } },
      ),
    },
  ];
  const efficiencyValues = cells.flatMap(({ endpoint, variant, c }) =>
    [
      { metric: EFFICIENCY_METRICS[0], ratio: c.relative.rpsPerCpu },
      { metric: EFFICIENCY_METRICS[1], ratio: c.relative.rpsPerGb },
      { metric: EFFICIENCY_METRICS[2], ratio: c.relative.requestsPerCpuSecond },
    ]
      .filter((m) => m.ratio !== null)
      .map((m) => ({ endpoint, variant, ...m })),
  );
  // Ratios to the baseline say nothing with the baseline alone.
  if (a.measured.length > 1 && efficiencyValues.length > 0) {
    specs.push({
      file: "efficiency",
      spec: grouped(`Efficiency relative to ${a.baseline} (1 = same)`, efficiencyValues, { field: "ratio", type: "quantitative", title: "× baseline" }, {
        xOffset: { field: "metric", type: "nominal", sort: EFFICIENCY_METRICS },
        opacity: { field: "metric", type: "nominal", sort: EFFICIENCY_METRICS, scale: { range: [1, 0.7, 0.4] } },
      }),
    });
  }
  if (a.results.settings.mode === "stress") {
    const values = a.measured.flatMap((v) => aggregateRuns(v).map((f) => ({ endpoint: f.endpoint, variant: v.name, connections: f.connections, rps: f.rps.median })));
    specs.push({
      file: "stress",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: "Successful req/s against concurrency",
        data: { values },
        width: 200,
        height: 200,
        mark: { type: "line", point: true, tooltip: true },
        encoding: {
          column: { field: "endpoint", type: "nominal", title: null, sort: null },
          x: { field: "connections", type: "quantitative", scale: { type: "log", base: 2 } },
          y: { field: "rps", type: "quantitative", title: "req/s" },
          color: { field: "variant", type: "nominal", sort: null },
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
