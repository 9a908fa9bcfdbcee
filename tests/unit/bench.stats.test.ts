import * as assert from "assert";
import { classifyBottleneck } from "../../bench/numbers/bottleneck";
import { efficiency, relativeEfficiency } from "../../bench/numbers/efficiency";
import { energyPer1000, raplDeltaJoules } from "../../bench/numbers/energy";
import { aggregateRuns, errorRate, figuresByEndpoint, successRps } from "../../bench/numbers/figures";
import { median, ratio, summarize } from "../../bench/numbers/stats";
import { stressBreach, stressLadder, stressOutcome } from "../../bench/numbers/stress";
import { makeRun } from "./bench-fixtures";

const close = (actual: number | null, expected: number, tolerance = 1e-9) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);

describe("bench statistics", () => {
  it("summarizes with the sample standard deviation", () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.strictEqual(s.mean, 5);
    assert.strictEqual(s.median, 4.5);
    assert.strictEqual(s.min, 2);
    assert.strictEqual(s.max, 9);
    close(s.stdev, Math.sqrt(32 / 7));
    close(s.cv, Math.sqrt(32 / 7) / 5);
    close(s.spread, (9 - 2) / 4.5);
  });

  it("gives a single value no spread and refuses no values", () => {
    assert.deepStrictEqual(summarize([3]), { n: 1, mean: 3, median: 3, min: 3, max: 3, stdev: 0, cv: 0, spread: 0 });
    assert.strictEqual(median([5, 1, 3]), 3);
    assert.throws(() => summarize([]), /no values/);
  });

  it("ratio is null when the reference is missing or zero", () => {
    assert.strictEqual(ratio(3, 2), 1.5);
    assert.strictEqual(ratio(3, 0), null);
    assert.strictEqual(ratio(null, 2), null);
  });
});

describe("bench run figures", () => {
  it("counts only responses below 400 as throughput and every failure in the error rate", () => {
    const run = makeRun({ responses: 1000, durationSeconds: 4, errors: { connect: 0, socket: 10, timeouts: 10, non2xx: 80 } });
    assert.strictEqual(successRps(run), 230);
    close(errorRate(run), 100 / 1020);
  });

  it("treats a run with no attempt at all as failed", () => {
    assert.strictEqual(errorRate(makeRun({ responses: 0 })), 1);
  });

  it("aggregates repetitions: median req/s, summed CPU, highest peak", () => {
    const runs = [
      makeRun({ repetition: 0, responses: 10_000, server: { cpuSeconds: 9, peakMemoryMb: 60, samples: 5 } }),
      makeRun({ repetition: 1, responses: 12_000, server: { cpuSeconds: 10, peakMemoryMb: 80, samples: 5 } }),
      makeRun({ repetition: 2, responses: 11_000, server: { cpuSeconds: 11, peakMemoryMb: 70, samples: 5 } }),
      makeRun({ endpoint: "/", responses: 500 }),
    ];
    const [light, root] = aggregateRuns({ runs });
    assert.strictEqual(light.repetitions, 3);
    assert.strictEqual(light.rps.median, 1100);
    assert.strictEqual(light.serverCpuSeconds, 30);
    assert.strictEqual(light.peakMemoryMb, 80);
    assert.strictEqual(light.successfulRequests, 33_000);
    assert.strictEqual(root.endpoint, "/");
  });

  it("has no CPU figure when any repetition lacks container stats", () => {
    const [f] = aggregateRuns({ runs: [makeRun(), makeRun({ repetition: 1, server: null })] });
    assert.strictEqual(f.serverCpuSeconds, null);
    assert.strictEqual(f.peakMemoryMb, null);
  });

  it("keeps the best stress step per endpoint", () => {
    const runs = [makeRun({ connections: 8, responses: 5000 }), makeRun({ connections: 16, step: 1, responses: 9000 }), makeRun({ connections: 32, step: 2, responses: 7000 })];
    assert.strictEqual(figuresByEndpoint({ runs }).get("/api/light")?.connections, 16);
  });
});

describe("bench efficiency and energy", () => {
  const [figures] = aggregateRuns({ runs: [makeRun({ responses: 9000, server: { cpuSeconds: 9.5, peakMemoryMb: 70, samples: 3 } })] });

  it("divides throughput by the budget and requests by the CPU actually used", () => {
    const e = efficiency(figures, { cpus: 1, memoryMb: 256, source: "stack" });
    assert.strictEqual(e.rpsPerCpu, 900);
    assert.strictEqual(e.rpsPerGb, 3600);
    close(e.requestsPerCpuSecond, 9000 / 9.5);
    const base = efficiency({ ...figures, rps: { ...figures.rps, median: 1200 }, successfulRequests: 12_000, serverCpuSeconds: 15 }, { cpus: 2, memoryMb: 512, source: "stack" });
    const rel = relativeEfficiency(e, base);
    close(rel.rpsPerCpu, 1.5);
    close(rel.rpsPerGb, 1.5);
    close(rel.requestsPerCpuSecond, 9000 / 9.5 / 800);
  });

  it("leaves unknown budgets unknown", () => {
    const e = efficiency({ ...figures, serverCpuSeconds: null }, { cpus: null, memoryMb: null, source: "none" });
    assert.deepStrictEqual(e, { rpsPerCpu: null, rpsPerGb: null, requestsPerCpuSecond: null });
  });

  it("estimates energy from CPU time × watts per core, or uses RAPL joules", () => {
    close(energyPer1000(figures, "estimate", 10).joulesPer1000, (95 / 9000) * 1000);
    assert.strictEqual(energyPer1000({ ...figures, raplJoules: 450 }, "rapl", 10).joulesPer1000, 50);
    assert.strictEqual(energyPer1000({ ...figures, raplJoules: null }, "rapl", 10).joulesPer1000, null);
    assert.strictEqual(energyPer1000({ ...figures, successfulRequests: 0 }, "estimate", 10).joulesPer1000, null);
  });

  it("reads RAPL deltas across a counter wrap", () => {
    assert.strictEqual(raplDeltaJoules(1_000_000, 3_000_000, 10_000_000), 2);
    assert.strictEqual(raplDeltaJoules(9_000_000, 1_000_000, 10_000_000), 2);
  });
});

describe("bench bottleneck classification", () => {
  const base = { durationSeconds: 10, clientCores: 1, hostBusy: 0.5, hostInterrupts: 0.05, hostCores: 2, proxyCpuSeconds: null };

  it("server-bound when the container used its quota", () => {
    assert.strictEqual(classifyBottleneck({ ...base, serverCpuSeconds: 4.6, budgetCpus: 0.5, clientCpuSeconds: 9.5 }).verdict, "server");
  });

  it("client-bound when the generator is near a full core and the server below budget", () => {
    const v = classifyBottleneck({ ...base, serverCpuSeconds: 10, budgetCpus: 2, clientCpuSeconds: 9.5 });
    assert.strictEqual(v.verdict, "client");
    assert.match(v.reason, /load generator at 95 % of its 1 core\(s\) while server at 50 % of its 2 CPU budget/);
  });

  it("host-bound when every core is busy but neither side saturated its own share, with the others' share", () => {
    const v = classifyBottleneck({ ...base, hostBusy: 0.99, serverCpuSeconds: 10, budgetCpus: 2, clientCpuSeconds: 6, proxyCpuSeconds: 2 });
    assert.strictEqual(v.verdict, "host");
    assert.match(v.reason, /host CPUs 99 % busy while server at 50 % of its 2 CPU budget, load generator 0\.60 cores, docker-proxy 0\.20 cores, kernel interrupts 0\.10 cores, other processes 0\.08 cores/);
  });

  it("unsaturated when nothing is saturated (a slow endpoint on a quiet host)", () => {
    assert.strictEqual(classifyBottleneck({ ...base, serverCpuSeconds: 0.2, budgetCpus: 1, clientCpuSeconds: 0.1 }).verdict, "unsaturated");
    assert.strictEqual(classifyBottleneck({ ...base, serverCpuSeconds: 8, budgetCpus: 2, clientCpuSeconds: 5 }).verdict, "unsaturated");
  });

  it("unknown without container figures unless the client is saturated", () => {
    assert.strictEqual(classifyBottleneck({ ...base, serverCpuSeconds: null, budgetCpus: 1, clientCpuSeconds: 1 }).verdict, "unknown");
    assert.strictEqual(classifyBottleneck({ ...base, serverCpuSeconds: null, budgetCpus: null, clientCpuSeconds: 9.9 }).verdict, "client");
  });
});

describe("bench stress ladder", () => {
  const limits = { maxErrorRate: 0.01, maxP99Ms: 500 };

  it("doubles from the start and ends at the maximum", () => {
    assert.deepStrictEqual(stressLadder(8, 100), [8, 16, 32, 64, 100]);
    assert.deepStrictEqual(stressLadder(8, 64), [8, 16, 32, 64]);
  });

  it("names every threshold a step passes", () => {
    assert.strictEqual(stressBreach({ errorRate: 0, latencyMs: { p50: 1, p90: 2, p99: 400, max: 900 } }, limits), null);
    assert.strictEqual(stressBreach({ errorRate: 0.05, latencyMs: { p50: 1, p90: 2, p99: 600, max: 900 } }, limits), "error rate 5.0 % > 1.0 %, p99 600 ms > 500 ms");
  });

  it("reports the last step that held and the first that broke", () => {
    const steps = aggregateRuns({
      runs: [
        makeRun({ connections: 16, step: 1, responses: 9000, latencyMs: { p50: 5, p90: 9, p99: 300, max: 400, mean: 6 } }),
        makeRun({ connections: 8, step: 0, responses: 6000 }),
        makeRun({ connections: 32, step: 2, responses: 9500, latencyMs: { p50: 50, p90: 90, p99: 700, max: 900, mean: 60 } }),
      ],
    });
    const o = stressOutcome(steps, limits);
    assert.deepStrictEqual(o.held, { connections: 16, rps: 900 });
    assert.deepStrictEqual(o.broke, { connections: 32, reason: "p99 700 ms > 500 ms" });
    assert.strictEqual(o.peakRps, 950);
  });
});
