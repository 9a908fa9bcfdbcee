/** The comparison's chart: each row's req/s change beside both sessions' noise (pure Vega-Lite spec). */
import { ComparisonLine, MACHINE_CHANGED, NOT_EVIDENCE, NOT_SERVER_BOUND } from "./comparison";
import { change, percent } from "../numbers/format";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** Every label drawn whole: no ellipsis on axes, legends or titles. */
const CONFIG = { axis: { labelLimit: 0, titleLimit: 0 }, legend: { labelLimit: 0, titleLimit: 0 }, title: { limit: 0, subtitleFontSize: 10 } };

/**
 * One row per variant and endpoint: a bar for Δ req/s (%), and two whiskers around 0 for the old
 * and the new session's noise (their spread or the floor between sessions, or the default with one repetition, dashed); the
 * verdict is written beside the row.
 */
export function compareChartSpec(lines: readonly ComparisonLine[]): Record<string, unknown> {
  const row = (l: ComparisonLine) => `${l.variant} ${l.endpoint}`;
  const deltas = lines.map((l) => ({
    row: row(l),
    delta: l.rps.change * 100,
    text: `${change(1 + l.rps.change)} — ${l.rps.verdict}`,
    verdict: l.rps.verdict,
  }));
  const noise = lines.flatMap((l) =>
    (["old", "new"] as const).map((session) => {
      const f = l.rps[session];
      return { row: row(l), session: `${session} session noise`, low: -f.noise * 100, high: f.noise * 100, measured: f.repetitions > 1, label: `±${percent(f.noise, 0)}` };
    }),
  );
  const extent = Math.max(10, ...deltas.map((d) => Math.abs(d.delta)), ...noise.map((n) => n.high)) * 1.15;
  const x = { type: "quantitative", title: "Δ req/s, new vs old (%)", scale: { domain: [-extent, extent] } };
  const y = { field: "row", type: "nominal", title: null, sort: null };
  return {
    $schema: SCHEMA,
    title: {
      text: "Change in successful req/s between the two sessions",
      subtitle: ["bar: the change; whiskers around 0: each session's noise (spread between its repetitions, at least the floor between sessions; dashed: the default, one repetition)", "a bar inside both whiskers is within noise"],
    },
    width: 460,
    height: Math.max(60, 40 * lines.length),
    layer: [
      {
        data: { values: noise },
        mark: { type: "rule", strokeWidth: 2 },
        encoding: {
          x: { ...x, field: "low" },
          x2: { field: "high" },
          y,
          yOffset: { field: "session", type: "nominal", sort: ["old session noise", "new session noise"] },
          color: { field: "session", type: "nominal", title: "noise", sort: ["old session noise", "new session noise"], scale: { range: ["#999999", "#333333"] } },
          strokeDash: { condition: { test: "!datum.measured", value: [4, 3] }, value: [1, 0] },
        },
      },
      {
        data: { values: deltas },
        mark: { type: "bar", height: 8, opacity: 0.85 },
        encoding: {
          x: { ...x, field: "delta" },
          y,
          color: { field: "verdict", type: "nominal", title: "verdict", scale: { domain: ["changed", "within noise", NOT_EVIDENCE, MACHINE_CHANGED, NOT_SERVER_BOUND], range: ["#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"] } },
        },
      },
      {
        data: { values: deltas },
        mark: { type: "text", align: "left", dx: 6, dy: -10, fontSize: 10, limit: 0 },
        encoding: { x: { value: 0 }, y, text: { field: "text" } },
      },
    ],
    resolve: { scale: { color: "independent" } },
    config: CONFIG,
  };
}
