/** `npm run bench -- compare OLD NEW`: change per variant and endpoint against the noise of both sessions. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareResults, runCompare } from "../../bench/compare";
import { UsageError } from "../../bench/errors";
import { BenchResults } from "../../bench/schema";
import { makeResults, makeRun, makeVariant } from "./bench-fixtures";

/** microvm on /api/light, three repetitions at these response counts over 10 s, p99 8 ms. */
function session(responses: number[], p99 = 8): BenchResults {
  return makeResults({
    settings: { ...makeResults().settings, repetitions: responses.length, baseline: "microvm" },
    variants: [makeVariant("microvm", 1, 256, responses.map((r, repetition) => makeRun({ repetition, responses: r, latencyMs: { p50: 2, p90: 4, p99, max: 20, mean: 2.5 } })))],
  });
}

describe("bench compare", () => {
  it("flags a 30 % change and not a 3 % one (spread 4 % in both sessions)", () => {
    const old = session([10_000, 10_200, 9_800]);
    const [up30] = compareResults(old, session([13_000, 13_260, 12_740]));
    assert.strictEqual(up30.verdict, "changed");
    assert.ok(Math.abs(up30.rps.change - 0.3) < 1e-9);
    const [up3] = compareResults(old, session([10_300, 10_500, 10_100]));
    assert.strictEqual(up3.verdict, "within noise");
  });

  it("uses a stated 10 % noise for a session without repetitions, and the p99 change too", () => {
    const [small] = compareResults(session([10_000]), session([10_800]));
    assert.deepStrictEqual([small.noise.rps, small.verdict], [0.1, "within noise"]);
    const [slower] = compareResults(session([10_000]), session([10_000], 12));
    assert.deepStrictEqual([Math.round(slower.p99.change * 100), slower.verdict], [50, "changed"]);
  });

  it("names figures that rest on unsound runs", () => {
    const hostBound = makeResults({ variants: [makeVariant("microvm", 1, 256, [makeRun({ bottleneck: { verdict: "host", reason: "x" } })])] });
    assert.deepStrictEqual(compareResults(hostBound, session([10_000]))[0].caveats, ["old host-bound"]);
  });

  it("writes markdown and refuses bad input with one clear message", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-compare-"));
    try {
      const write = (name: string, r: BenchResults) => {
        fs.mkdirSync(path.join(root, name));
        fs.writeFileSync(path.join(root, name, "results.json"), JSON.stringify(r));
        return path.join(root, name);
      };
      const oldDir = write("old", session([10_000, 10_100, 9_900]));
      const newDir = write("new", session([13_000, 13_130, 12_870]));
      const { text, file } = runCompare([oldDir, newDir]);
      assert.match(text, /microvm +\/api\/light +1000\.0 → 1300\.0 +\+30 % .* changed/);
      assert.match(fs.readFileSync(file, "utf8"), /\| microvm \| \/api\/light \| 1000\.0 → 1300\.0 \| \+30 % \|.*\| changed \|/);
      const other = write("other", makeResults({ variants: [makeVariant("standard", 2, 512, [makeRun()])] }));
      assert.throws(() => runCompare([oldDir, other]), (e: unknown) => e instanceof UsageError && /no variant and endpoint measured in both: .* has microvm, .* has standard/.test(e.message));
      assert.throws(() => runCompare([oldDir, root]), (e: unknown) => e instanceof UsageError && /has no results\.json/.test(e.message));
      assert.throws(() => runCompare([oldDir]), /needs two result folders/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
