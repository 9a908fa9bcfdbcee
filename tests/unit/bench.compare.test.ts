/** `npm run bench -- compare OLD NEW`: change per variant and endpoint against the noise of both sessions and the machine's. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareResults, compareUsage, parseCompareArgs, renderComparison, runCompare } from "../../bench/report/compare";
import { MACHINE_CHANGED, NOT_EVIDENCE, NOT_SERVER_BOUND } from "../../bench/report/comparison";
import { UsageError } from "../../bench/errors";
import { BenchResults, Bottleneck } from "../../bench/schema";
import { DEFAULT_NOISE, SESSION_NOISE_FLOOR } from "../../bench/numbers/stats";
import { makeResults, makeRun, makeVariant } from "./bench-fixtures";

/** microvm on /api/light, one run per repetition at these response counts over 10 s; p99 and reference time per run optional. */
function session(responses: number[], options: { p99?: number[]; referenceMs?: number; steal?: number[]; others?: number[]; bottleneck?: Bottleneck } = {}): BenchResults {
  return makeResults({
    settings: { ...makeResults().settings, repetitions: responses.length, baseline: "microvm" },
    variants: [
      makeVariant(
        "microvm",
        1,
        256,
        responses.map((r, repetition) =>
          makeRun({ repetition, responses: r, latencyMs: { p50: 2, p90: 4, p99: options.p99?.[repetition] ?? 8, max: 20, mean: 2.5 }, referenceMs: options.referenceMs ?? 100, hostSteal: options.steal?.[repetition] ?? 0, hostOthers: options.others?.[repetition] ?? null, bottleneck: { verdict: options.bottleneck ?? "server", reason: "fixture" } }),
        ),
      ),
    ],
  });
}

describe("bench compare", () => {
  it("flags a 30 % change and not a 3 % one (spread 4 % in both sessions)", () => {
    const old = session([10_000, 10_200, 9_800]);
    const [up30] = compareResults(old, session([13_000, 13_260, 12_740]));
    assert.strictEqual(up30.rps.verdict, "changed");
    assert.ok(Math.abs(up30.rps.change - 0.3) < 1e-9);
    const [up3] = compareResults(old, session([10_300, 10_500, 10_100]));
    assert.strictEqual(up3.rps.verdict, "within noise");
  });

  it("one repetition: the issue's −34 % is not evidence, its noise is the measured default, never `changed`", () => {
    const [line] = compareResults(session([322_780]), session([212_990], { p99: [7] }));
    assert.strictEqual(Math.round(line.rps.change * 100), -34);
    assert.deepStrictEqual([line.rps.verdict, line.p99.verdict], [NOT_EVIDENCE, NOT_EVIDENCE]);
    assert.strictEqual(line.rps.old.noise, DEFAULT_NOISE.rps);
    assert.ok(DEFAULT_NOISE.rps >= 0.91, "no smaller than the 91 % measured between back-to-back sessions (docs/benchmarks.md)");
    // One session with repetitions and one without is still one repetition.
    assert.strictEqual(compareResults(session([10_000, 10_100, 9_900]), session([5_000]))[0].rps.verdict, NOT_EVIDENCE);
  });

  it("a p99 change alone is its own verdict, with its own noise, and leaves req/s within noise", () => {
    const [line] = compareResults(session([10_000, 10_100, 9_900], { p99: [8, 8.2, 7.9] }), session([10_050, 10_150, 9_950], { p99: [16, 24, 14] }));
    assert.strictEqual(line.rps.verdict, "within noise");
    assert.strictEqual(line.p99.verdict, "changed");
    assert.deepStrictEqual([line.p99.new.noise, line.p99.new.noiseSource], [10 / 16, "spread"], "the p99's own spread");
    assert.deepStrictEqual([line.p99.old.noise, line.p99.old.noiseSource], [SESSION_NOISE_FLOOR.p99, "floor"], "a spread below the floor between sessions counts as the floor");
  });

  it("repetitions' spread is no smaller than the floor between sessions: the CI run's A/A pair is within noise", () => {
    // Stop 24's CI: one unchanged container, two sessions of three repetitions a minute apart, the
    // machine's readings within bounds: `/` 37,749 → 41,776 req/s (+10.7 %), each session's
    // repetitions within 3 % of each other and the ranges apart. Called `changed` on spread alone.
    const [line] = compareResults(session([37_749, 38_400, 37_300]), session([41_776, 42_500, 41_200]));
    assert.ok(line.rps.change > 0.1 && line.rps.old.max < line.rps.new.min, "apart by more than both spreads");
    assert.deepStrictEqual([line.rps.verdict, line.rps.old.noiseSource, line.rps.new.noiseSource], ["within noise", "floor", "floor"]);
    assert.ok(SESSION_NOISE_FLOOR.rps >= 0.128 && SESSION_NOISE_FLOOR.p99 >= 0.238, "no smaller than the largest changes measured between sessions on a steady machine (docs/benchmarks.md)");
    // A change beyond the floor is still found.
    assert.strictEqual(compareResults(session([37_749, 38_400, 37_300]), session([27_000, 27_500, 26_800]))[0].rps.verdict, "changed");
  });

  it("another user's process on the variant's cores: flagged, and the share it left explains the drop", () => {
    // Found by an A/A run: another process took 37 % of core 0 during the new session while the
    // reference workload, sampled before each run, can move much less: −36 % req/s on /api/light.
    const quiet = session([37_014, 37_302, 35_982], { referenceMs: 109, others: [0.03, 0.04, 0.03] });
    const busy = session([23_683, 23_826, 23_543], { referenceMs: 118, others: [0.36, 0.38, 0.37] });
    const [line] = compareResults(quiet, busy);
    assert.strictEqual(line.machine.moved, true);
    assert.ok(line.caveats.some((c) => /37 % of the variant's cores used by other processes/.test(c)), line.caveats.join("; "));
    assert.strictEqual(line.rps.verdict, MACHINE_CHANGED);
    assert.match(line.machine.explanation ?? "", /other processes used 3 % → 37 % of the variant's cores .*scaled by it, the new req\/s is within noise of the old/);
    // Without the per-core reading the reference alone (8 % slower) neither sees a move nor explains −36 %.
    const [blind] = compareResults(session([37_014, 37_302, 35_982], { referenceMs: 109 }), session([23_683, 23_826, 23_543], { referenceMs: 118 }));
    assert.strictEqual(blind.rps.verdict, "changed");
    // Others' share below the bound is no move, and a change it cannot explain stays `changed`.
    const [steady] = compareResults(quiet, session([20_000, 20_200, 19_800], { referenceMs: 110, others: [0.05, 0.04, 0.05] }));
    assert.deepStrictEqual([steady.machine.moved, steady.rps.verdict], [false, "changed"]);
  });

  it("overlapping ranges are within noise even when the medians differ by more than both spreads", () => {
    const [line] = compareResults(session([1_000, 1_000, 1_300]), session([1_290, 1_350, 1_360]));
    assert.ok(line.rps.change > Math.max(line.rps.old.noise, line.rps.new.noise));
    assert.strictEqual(line.rps.verdict, "within noise");
  });

  it("says the machine changed when the reference workload accounts for the difference, not when it cannot", () => {
    const old = session([10_000, 10_100, 9_900], { referenceMs: 100 });
    const [slowMachine] = compareResults(old, session([7_200, 7_300, 7_100], { referenceMs: 140 }));
    assert.strictEqual(slowMachine.rps.verdict, MACHINE_CHANGED);
    assert.match(slowMachine.machine.explanation ?? "", /reference workload \+40 % in time/);
    const [quarter] = compareResults(old, session([2_500, 2_550, 2_450], { referenceMs: 140 }));
    assert.strictEqual(quarter.rps.verdict, "changed");
    const [sameMachine] = compareResults(old, session([7_200, 7_300, 7_100], { referenceMs: 102 }));
    assert.strictEqual(sameMachine.rps.verdict, "changed");
  });

  it("judges p99 against the machine too: latency scales with the inverse of the machine's speed", () => {
    // Found by a CI run: the machine faster in the new session; req/s said so, p99 said `changed`.
    const old = session([10_000, 10_300, 9_800], { referenceMs: 250, p99: [3.8, 3.9, 3.7] });
    const [faster] = compareResults(old, session([25_000, 25_500, 24_600], { referenceMs: 100, p99: [1.5, 1.55, 1.45] }));
    assert.deepStrictEqual([faster.rps.verdict, faster.p99.verdict], [MACHINE_CHANGED, MACHINE_CHANGED]);
    assert.match(faster.machine.explanation ?? "", /scaled by it, the new req\/s and p99 are within noise of the old/);
    // The same faster machine does not explain a p99 that got worse.
    const [worse] = compareResults(old, session([25_000, 25_500, 24_600], { referenceMs: 100, p99: [6, 6.1, 5.9] }));
    assert.deepStrictEqual([worse.rps.verdict, worse.p99.verdict], [MACHINE_CHANGED, "changed"]);
    // Without a machine that moved, a p99 change stays `changed`.
    const [steady] = compareResults(old, session([10_000, 10_300, 9_800], { referenceMs: 250, p99: [1.5, 1.55, 1.45] }));
    assert.strictEqual(steady.p99.verdict, "changed");
  });

  it("a change resting on runs that did not measure the server is not evidence, unless its direction is bounded", () => {
    // The A/A run that found this: `/` 34,215 → 16,149 req/s `changed`, the new runs unsaturated and host-bound.
    const steady = session([34_000, 34_500, 33_800]);
    const starved = session([16_100, 16_400, 15_900], { bottleneck: "unsaturated" });
    const [drop] = compareResults(steady, starved);
    assert.deepStrictEqual([drop.rps.verdict, drop.p99.verdict], [NOT_SERVER_BOUND, "within noise"]);
    // An unsaturated run is a lower bound: a rise from it is not evidence, a drop from it to a server-bound session is.
    assert.strictEqual(compareResults(starved, steady)[0].rps.verdict, NOT_SERVER_BOUND);
    assert.strictEqual(compareResults(session([34_000, 34_500, 33_800], { bottleneck: "host" }), session([8_000, 8_100, 7_900]))[0].rps.verdict, "changed");
    // A p99 change needs both sessions to have measured the server.
    const [p99] = compareResults(session([10_000, 10_100, 9_900], { p99: [8, 8.2, 7.9] }), session([10_000, 10_100, 9_900], { p99: [16, 16.4, 15.8], bottleneck: "host" }));
    assert.strictEqual(p99.p99.verdict, NOT_SERVER_BOUND);
    // Runs whose bottleneck could not be classified keep their verdict (and their caveat).
    const [unknown] = compareResults(steady, session([16_100, 16_400, 15_900], { bottleneck: "unknown" }));
    assert.strictEqual(unknown.rps.verdict, "changed");
  });

  it("names runs with steal above the bound, and figures that rest on unsound runs", () => {
    const [stolen] = compareResults(session([10_000, 10_100, 9_900]), session([10_000, 10_100, 9_900], { steal: [0, 0.12, 0] }));
    assert.deepStrictEqual(stolen.caveats, ["new microvm /api/light: 12 % of CPU time stolen by the hypervisor"]);
    const hostBound = makeResults({ variants: [makeVariant("microvm", 1, 256, [makeRun({ bottleneck: { verdict: "host", reason: "x" } })])] });
    assert.deepStrictEqual(compareResults(hostBound, session([10_000]))[0].caveats, ["old host-bound"]);
  });

  it("the markdown warns that one repetition is not evidence and states the default", () => {
    const old = session([10_000]);
    const lines = compareResults(old, session([6_600]));
    const md = renderComparison("a", "b", old, session([6_600]), lines, null);
    assert.match(md, /one repetition: not evidence: a session measured once has no spread of its own; its noise is the default ±100 %/);
    assert.doesNotMatch(md, /\| changed \|/);
  });

  it("--help prints the compare usage; a bad option or a missing folder is one usage error", () => {
    assert.strictEqual(parseCompareArgs(["--help"]), "help");
    assert.strictEqual(parseCompareArgs(["a", "b", "-h"]), "help");
    assert.match(compareUsage(), /Usage: npm run bench -- compare \[options\] <OLD_DIR> <NEW_DIR>/);
    assert.throws(() => parseCompareArgs(["a", "b", "--bogus"]), (e: unknown) => e instanceof UsageError && /compare: unknown option '--bogus'/.test(e.message));
    assert.throws(() => parseCompareArgs(["a"]), (e: unknown) => e instanceof UsageError && /missing required argument 'NEW_DIR'/.test(e.message));
  });

  it("writes markdown and its chart, and refuses bad input with one clear message", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-compare-"));
    try {
      const write = (name: string, r: BenchResults) => {
        fs.mkdirSync(path.join(root, name));
        fs.writeFileSync(path.join(root, name, "results.json"), JSON.stringify(r));
        return path.join(root, name);
      };
      const oldDir = write("old", session([10_000, 10_100, 9_900]));
      const newDir = write("new", session([13_000, 13_130, 12_870]));
      const compared = await runCompare([oldDir, newDir]);
      assert.ok(compared !== "help");
      const { text, file, chart } = compared;
      assert.match(text, /microvm +\/api\/light +1000\.0 → 1300\.0 +\+30 % .* changed/);
      const md = fs.readFileSync(file, "utf8");
      assert.match(md, /\| microvm \| \/api\/light \| 1000\.0 → 1300\.0 \| \+30 % \|.*\| changed \|/);
      assert.ok(md.includes("![Change per variant and endpoint, with both sessions' noise](compare.svg)"));
      const svg = fs.readFileSync(chart ?? "", "utf8");
      for (const label of ["microvm /api/light", "+30 % — changed", "old session noise", "new session noise"]) assert.ok(svg.includes(label), label);
      const other = write("other", makeResults({ variants: [makeVariant("standard", 2, 512, [makeRun()])] }));
      await assert.rejects(runCompare([oldDir, other]), (e: unknown) => e instanceof UsageError && /no variant and endpoint measured in both: .* has microvm, .* has standard/.test(e.message));
      await assert.rejects(runCompare([oldDir, root]), (e: unknown) => e instanceof UsageError && /has no results\.json/.test(e.message));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
