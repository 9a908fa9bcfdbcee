/**
 * Every chart of a report, rendered for real (Vega to SVG, resvg to PNG) from example sessions with a
 * 47 %-spread row, an emulated row 100× below the others and a one-variant session, and the
 * comparison's chart: the SVG text must carry the budget labels, the values, the spread marks, and
 * no label cut short.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { analyze } from "../../bench/numbers/analysis";
import { exampleSvgs, oneVariantSession, svgToPng } from "../../bench/report/chartExamples";
import { chartSpecs, renderSvgs } from "../../bench/report/charts";

const DOCS_CHARTS = path.resolve(__dirname, "..", "..", "docs", "charts");
/** Text of every <text> element, entities decoded. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([\s\S]*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&quot;/g, '"'));
/** The elements one layer of marks drew (Vega names each layer's group child_layer_N_marks). */
const layerItems = (svg: string, layer: number) =>
  [...svg.matchAll(new RegExp(`child_layer_${layer}_marks`, "g"))].reduce((sum, m) => sum + (svg.slice(m.index, svg.indexOf("</g>", m.index)).match(/<(line|path)/g) ?? []).length, 0);

describe("bench charts, rendered", function () {
  this.timeout(60_000);
  let svgs: Map<string, string>;
  before(async () => {
    svgs = new Map((await exampleSvgs()).map(({ file, svg }) => [file, svg]));
  });

  it("draws every chart of the examples: three per session, the ladder and the comparison", () => {
    assert.deepStrictEqual([...svgs.keys()], [
      "example-throughput", "example-latency", "example-efficiency",
      "one-variant-throughput", "one-variant-latency", "one-variant-efficiency",
      "ladder",
      "compare",
    ]);
  });

  it("draws the ladder in one block per acceleration, the emulated guests apart from the containers", () => {
    const t = texts(svgs.get("ladder") ?? "");
    const native = t.indexOf("Native: containers and KVM guests");
    const emulated = t.indexOf("Emulated (TCG): compared only with each other");
    assert.ok(native >= 0 && emulated > native, t.join(" | "));
    // The SVG draws each block's rows before its title.
    const at = (label: string) => t.indexOf(label);
    for (const rung of ["standard (node, 2 CPUs, 512 MiB)", "minimal (node, 0.5 CPUs, 128 MiB)"]) assert.ok(at(rung) < native, `${rung} in the native block: ${t.join(" | ")}`);
    for (const rung of ["microvm-vm (emulated: TCG) (node, 1 CPU, 256 MiB)", "unikernel (emulated: TCG) (node, 1 CPU, 480 MiB)"]) {
      assert.ok(at(rung) > native && at(rung) < emulated, `${rung} in the emulated block`);
    }
    assert.ok(t.includes("338.1 req/CPU-s (3 runs, req/s spread 4 %)"), t.join(" | "));
  });

  it("labels each variant with its runtime and budget in MiB, whole: no label cut short anywhere", () => {
    for (const file of ["example-throughput", "example-latency"]) {
      const t = texts(svgs.get(file) ?? "");
      for (const label of ["standard (node, 2 CPUs, 512 MiB)", "microvm (node, 1 CPU, 256 MiB)", "minimal (node, 0.5 CPUs, 128 MiB)", "unikernel (emulated: TCG) (node, 1 CPU, 480 MiB)"]) {
        assert.ok(t.includes(label), `${file} lacks ${label}: ${t.join(" | ")}`);
      }
    }
    for (const [file, svg] of svgs) assert.ok(!svg.includes("…"), `${file} has a label cut short with an ellipsis`);
  });

  it("writes each value beside its bar, marks the 47 % row not established, and draws min–max whiskers", () => {
    const svg = svgs.get("example-throughput") ?? "";
    const t = texts(svg);
    assert.ok(t.includes("36100.0 req/s (3 runs, spread 4 %)"), t.join(" | "));
    assert.ok(t.includes("12400.0 req/s (3 runs, spread 47 %) ⚠ not established: spread 47 %"), t.join(" | "));
    assert.ok(t.includes("352.0 req/s (3 runs, spread 6 %) ⚠ not established: emulated (TCG)"), t.join(" | "));
    // Layer 1: the whisker rules, one per bar with a spread (4 variants × 2 endpoints).
    assert.strictEqual(layerItems(svg, 1), 8);
    // Not-established bars are dashed.
    assert.match(svg, /stroke-dasharray="4,2"/);
  });

  it("puts the emulated row on a log axis, and says so in the axis title", () => {
    assert.ok(texts(svgs.get("example-throughput") ?? "").includes("req/s — log scale: rows differ by more than 100×"));
    assert.ok(!texts(svgs.get("one-variant-throughput") ?? "").some((x) => x.includes("log scale")));
  });

  it("says in the chart when there is nothing to compare, and why a variant is left out", () => {
    assert.ok(texts(svgs.get("one-variant-efficiency") ?? "").includes("Nothing to compare: only microvm was measured; ratios to the baseline need a second variant"));
    assert.ok(texts(svgs.get("example-efficiency") ?? "").some((x) => x.includes("not shown: unikernel (emulated or without a budget: no ratio to standard)")));
  });

  it("draws the comparison as Δ with both sessions' noise and the verdict", () => {
    const t = texts(svgs.get("compare") ?? "");
    for (const label of ["microvm /api/light", "−75 % — changed".replace("−", "-"), "±0 % — within noise", "old session noise", "new session noise"]) assert.ok(t.includes(label), `${label}: ${t.join(" | ")}`);
  });

  it("fixes the throughput axis with --y-max, so reports share one scale", async () => {
    const [throughput] = chartSpecs(analyze(oneVariantSession()), { yMax: 50_000 });
    const [{ svg }] = await renderSvgs([throughput]);
    assert.ok(texts(svg).includes("req/s — axis fixed at 50000.0"), texts(svg).join(" | "));
    assert.ok(texts(svg).includes("50,000"), "the axis ends at the fixed top");
  });

  it("renders each chart to a PNG, and docs/charts holds one of each", () => {
    for (const [file, svg] of svgs) {
      const png = svgToPng(svg);
      assert.strictEqual(png.subarray(1, 4).toString(), "PNG", file);
      const width = png.readUInt32BE(16);
      const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
      assert.strictEqual(width, Math.round(svgWidth * 2), `${file}: twice the SVG's width`);
      assert.ok(fs.existsSync(path.join(DOCS_CHARTS, `${file}.png`)), `docs/charts/${file}.png (npm run bench:chart-examples)`);
    }
  });
});
