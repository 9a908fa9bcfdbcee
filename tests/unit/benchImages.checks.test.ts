import * as assert from "assert";
import { analyze } from "../../bench/numbers/analysis";
import { MinimalFigures, minimalChecks, renderSummary, throughputChecks } from "../../bench/studies/images/goals";
import { makeResults, makeRun, makeVariant } from "./bench-fixtures";

/** Responses in 10 s per server: light, heavy (so req/s is a tenth); FastAPI uses 12.5 CPU-s, the others 10. */
const RESPONSES: Record<string, [number, number]> = {
  node: [230_000, 20_000],
  bun: [500_000, 24_000],
  "bare-node": [250_000, 22_000],
  "bare-bun": [600_000, 30_000],
  fastapi: [150_000, 16_000],
};

function results() {
  const variants = Object.entries(RESPONSES).map(([name, [light, heavy]]) => {
    const cpuSeconds = name === "fastapi" ? 12.5 : 10;
    return makeVariant(name, 1, 512, [
      makeRun({ endpoint: "/api/light", responses: light, server: { cpuSeconds, peakMemoryMb: 50, samples: 100 } }),
      makeRun({ endpoint: "/api/heavy", responses: heavy, server: { cpuSeconds, peakMemoryMb: 80, samples: 100 } }),
    ]);
  });
  const base = makeResults();
  return makeResults({ variants, settings: { ...base.settings, endpoints: ["/api/light", "/api/heavy"], baseline: "fastapi" } });
}

const minimal = (overrides: Partial<MinimalFigures> = {}): MinimalFigures => ({
  runtime: "bun",
  startupMs: [300, 520, 310],
  peakWorkingSetMib: 64,
  errors: 0,
  oomKilled: false,
  lightRps: 5000,
  heavyRps: 200,
  requestsPerCpuSecond: 10_400,
  ...overrides,
});

describe("bench:images: the issue's targets checked on measured figures", () => {
  it("divides the medians and says which targets are met", () => {
    const checks = throughputChecks(analyze(results()));
    assert.deepStrictEqual(
      checks.map((c) => [c.label, c.value, c.target, c.met]),
      [
        ["/api/light node ÷ bare-node", "0.92x (per CPU-second 0.92x)", "≥ 0.9x", true],
        ["/api/light node ÷ fastapi", "1.53x (per CPU-second 1.92x)", "≥ 1.4x", true],
        ["/api/heavy node ÷ fastapi", "1.25x (per CPU-second 1.56x)", "≥ 1.2x", true],
        ["/api/light bun ÷ bare-bun", "0.83x (per CPU-second 0.83x)", "≥ 0.8x", true],
        ["/api/light bun ÷ fastapi", "3.33x (per CPU-second 4.17x)", "≥ 3x", true],
        ["/api/heavy bun ÷ fastapi", "1.50x (per CPU-second 1.88x)", "≥ 1.2x", true],
      ],
    );
  });

  it("marks a missed target, and one whose server was not measured", () => {
    const r = results();
    r.variants = r.variants.filter((v) => v.name !== "bare-bun");
    r.variants.find((v) => v.name === "node")!.runs[0].responses = 200_000;
    const checks = throughputChecks(analyze(r));
    assert.deepStrictEqual(checks[0].met, false, "0.8x of bare node:http misses 0.9x");
    assert.deepStrictEqual([checks[3].value, checks[3].met], ["not measured", null]);
  });

  it("checks the minimal image: 64 MiB is within the limit, the start-up target reads the median", () => {
    assert.deepStrictEqual(minimalChecks(minimal()).map((c) => c.met), [true, true, true, true]);
    const bad = minimalChecks(minimal({ peakWorkingSetMib: 64.1, errors: 3, oomKilled: true, startupMs: [510, 600, 100] }));
    assert.deepStrictEqual(bad.map((c) => c.met), [false, false, false, false]);
    assert.strictEqual(bad[3].value, "510 ms [510, 600, 100]");
  });

  it("prints req/s and requests per CPU-second for every server and both minimal images, then the verdicts", () => {
    const text = renderSummary(analyze(results()), [minimal({ runtime: "node" }), minimal()]);
    assert.match(text, /\/api\/light bun +50000 req\/s \[50000\]; 50000 req\/CPU-s;/);
    assert.match(text, /\/api\/heavy fastapi +1600 req\/s \[1600\]; 1280 req\/CPU-s;/);
    assert.match(text, /minimal node \(0\.5 CPU, 128 MB\), light \+ heavy at once +5000 \+ 200 req\/s; 10400 req\/CPU-s/);
    assert.match(text, /\/api\/light bun ÷ fastapi +3\.33x \(per CPU-second 4\.17x\) \(target ≥ 3x\) met/);
    assert.match(text, /minimal bun: peak working set under load +64\.0 MiB \(target ≤ 64 MiB\) met/);
  });
});
