import * as assert from "assert";
import { analyze } from "../../bench/numbers/analysis";
import { chartSpecs, renderSvgs } from "../../bench/report/charts";
import { consoleSummary } from "../../bench/report/tables";
import { conclusions } from "../../bench/report/conclusions";
import { renderReport } from "../../bench/report/report";
import { parseResults } from "../../bench/schema";
import { makeResults, makeRun, makeVariant } from "./bench-fixtures";

describe("bench report rendering", () => {
  const report = renderReport(makeResults(), { throughput: "charts/throughput.svg" });

  it("lists every variant's status, the skipped unikernel included", () => {
    assert.match(report, /\| \*\*standard\*\* \(baseline\) \| ✅ measured \| — \| http:\/\/127\.0\.0\.1:8004 \| 2 CPUs, 512 MiB \|/);
    assert.match(report, /\| \*\*unikernel\*\* \| ⚠️ skipped: kraft not found \| — \| — \|/);
  });

  it("draws throughput bars relative to the baseline", () => {
    assert.ok(report.includes("standard (2 CPUs)   1200.0 req/s  ████████████████████████████ (baseline) ⚠️ host-bound"), report);
    assert.ok(report.includes("microvm (1 CPU)      900.0 req/s  █████████████████████        (-25 %)"), report);
    assert.ok(report.includes("minimal (0.5 CPUs)   500.0 req/s  ████████████                 (-58 %)"), report);
    assert.ok(report.includes("![Throughput per endpoint](charts/throughput.svg)"));
  });

  it("fills the latency and efficiency tables from the figures", () => {
    assert.ok(report.includes("| `/api/light` | microvm | 2.00 | 4.00 | 8.00 | 20.0 | 0.00 % | 0.10 | server-bound (1 run, spread unknown) |"), report);
    assert.ok(report.includes("| `/api/light` | standard | 2.00 | 4.00 | 8.00 | 20.0 | 0.00 % | 0.10 | ⚠️ host-bound |"), report);
    assert.ok(report.includes("| `/api/light` | microvm | 900.0 (×1.50) | 3600.0 (×1.50) | 947.4 (×1.18) | 0.95 of 1 | 70.0 MiB | server-bound (1 run, spread unknown) |"), report);
    assert.ok(report.includes("| `/api/light` | minimal | 1000.0 (×1.67) | 4000.0 (×1.67) | 1041.7 (×1.30) | 0.48 of 0.5 | 120.0 MiB | server-bound (1 run, spread unknown) |"), report);
  });

  it("labels the energy figures as an estimate when there is no RAPL", () => {
    assert.match(report, /\*\*Estimate \(no RAPL on this host\):\*\* container CPU-seconds × 10 W per busy core/);
    assert.ok(report.includes("| `/api/light` | 12.5 | 10.6 | 9.60 |"), report);
    const rapl = renderReport(makeResults({ provenance: { ...makeResults().provenance, energySource: "rapl" } }));
    assert.match(rapl, /\*\*Measured \(RAPL package counters\):\*\*/);
  });

  it("records machine, tools, network path and repetitions", () => {
    assert.match(report, /Machine: Test CPU, 2 cores, 23 GB RAM/);
    assert.match(report, /Tools: node v20\.20\.2, wrk debian\/4\.1\.0-3\+b2 \[epoll\], docker engine 20\.10\.24/);
    assert.match(report, /standard: 127\.0\.0\.1 → docker-proxy \(userland\) → container bridge/);
    assert.match(report, /1 repetition, interleaved/);
    assert.match(report, /\*\*Measuring path:\*\* published/);
    assert.match(report, /\*\*Docker userland-proxy:\*\* on \(dockerd's default\)/);
  });

  it("states what docker-proxy cost, measured on either path", () => {
    const withProxy = makeResults({ variants: [makeVariant("standard", 2, 512, [makeRun({ proxyCpuSeconds: 8 }), makeRun({ repetition: 1, proxyCpuSeconds: 7 })])] });
    assert.match(renderReport(withProxy), /docker-proxy used 15\.00 CPU-seconds over 20\.0 s of measured load \(0\.75 cores on average\)/);
    const clean = makeResults({ settings: { ...makeResults().settings, path: "namespace" }, variants: [makeVariant("microvm", 1, 256, [makeRun({ proxyCpuSeconds: 0 })])] });
    assert.match(renderReport(clean), /docker-proxy used 0\.00 CPU-seconds/);
    assert.match(renderReport(clean), /\*\*Measuring path:\*\* namespace/);
  });

  it("labels partial and not-measurable figures wherever they appear", () => {
    const results = makeResults({
      complete: false,
      variants: [
        makeVariant("standard", 2, 512, [makeRun()], { notMeasurable: "not measurable here: standard may run on any of the 2 cores" }),
        makeVariant("microvm", 1, 256, [makeRun({ partial: true })]),
      ],
    });
    const report = renderReport(results);
    assert.ok(report.includes("⚠️ not measurable here"), report);
    assert.ok(report.includes("| `/api/light` | microvm | 2.00 | 4.00 | 8.00 | 20.0 | 0.00 % | 0.10 | ⚠️ partial |"), report);
    assert.ok(report.includes("- standard: not measurable here: standard may run on any of the 2 cores"), report);
    const summary = consoleSummary(results);
    assert.match(summary, /^\nPARTIAL: interrupted/);
    assert.match(summary, /microvm .* partial\n/);
    assert.match(summary, /standard .* not measurable here\n/);
  });

  it("flags an interrupted run at the top", () => {
    assert.match(renderReport(makeResults({ complete: false })), /⚠️ \*\*Interrupted run:\*\*/);
  });

  it("still renders when nothing could be measured", () => {
    const results = makeResults({ variants: [makeVariant("standard", 2, 512, [], { status: "unreachable", detail: "connection refused" })] });
    const text = renderReport(results);
    assert.match(text, /❌ unreachable: connection refused/);
    assert.match(text, /No variant was measured/);
    assert.doesNotMatch(text, /## Throughput/);
  });
});

describe("bench conclusions", () => {
  it("are computed from the numbers", () => {
    const lines = conclusions(analyze(makeResults()));
    // standard (the baseline) was host-bound: no ratio to it, and it is left out of the rankings.
    assert.ok(lines.includes("No comparison of microvm with standard on /api/light: standard's runs were host-bound, so their req/s do not measure the servers (figures stay in the tables, marked)."), lines.join("\n"));
    assert.ok(!lines.some((l) => /serves \d+ %/.test(l)), lines.join("\n"));
    assert.ok(lines.includes("Req/s per CPU on /api/light, server-bound runs only, best first: minimal 1000.0 (1 run, spread unknown), microvm 900.0 (1 run, spread unknown); left out: standard (host-bound)."), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("Requests per CPU-second actually used on /api/light, best first: minimal 1041.7 (1 run, spread unknown), microvm 947.4")));
    assert.ok(lines.some((l) => l.startsWith("1 of 3 runs were limited by the load generator or the shared host, not by the server: standard 1 of 1 (host).")), lines.join("\n"));
    // (0.7 − 0.05 interrupts) × 2 cores × 10 s = 13 CPU-s busy; the server, generator (5) and no proxy leave the rest to other processes.
    assert.ok(!lines.some((l) => l.startsWith("Other processes used")), "standard and microvm leave nothing; minimal: 13 − 4.8 − 5 = 3.2 CPU-s = 0.32 cores; mean over the three runs 0.11 < 0.25");
    assert.ok(lines.includes("minimal peaked at 120.0 MiB of its 128 MiB budget on /api/light: close to the OOM limit."));
    assert.ok(lines.some((l) => l.startsWith("One repetition only")));
  });

  it("compare sound runs only, naming their runs and spread, and say when a difference is not established", () => {
    const reps = (responses: number[]) => responses.map((r, repetition) => makeRun({ repetition, responses: r }));
    const settings = { ...makeResults().settings, repetitions: 3 };
    const tight = makeResults({ settings, variants: [makeVariant("standard", 2, 512, reps([12_000, 12_300, 11_900])), makeVariant("microvm", 1, 256, reps([9_000, 9_200, 8_900]))] });
    const established = conclusions(analyze(tight));
    assert.ok(
      established.includes("On /api/light, microvm serves 75 % of standard's throughput (900.0 vs 1200.0 req/s; microvm: 3 runs, spread 3 %, standard: 3 runs, spread 3 %) with 50 % of its CPUs: ×1.50 the req/s per CPU."),
      established.join("\n"),
    );
    const noisy = makeResults({ settings, variants: [makeVariant("standard", 2, 512, reps([12_000, 9_000, 12_500])), makeVariant("microvm", 1, 256, reps([9_000, 9_200, 8_900]))] });
    assert.ok(conclusions(analyze(noisy)).some((l) => l.startsWith("On /api/light, microvm serves") && l.endsWith("Not established: the spread between repetitions (29 %) exceeds 10 %.")));
    const close = makeResults({ settings, variants: [makeVariant("standard", 2, 512, reps([9_000, 9_500, 9_100])), makeVariant("microvm", 1, 256, reps([9_000, 9_200, 8_900]))] });
    assert.ok(conclusions(analyze(close)).some((l) => l.endsWith("Not established: the difference is within the spread between repetitions (5 %).")));
  });

  it("draw no conclusion at all from host-bound runs", () => {
    const hostBound = makeResults({ variants: [makeVariant("microvm", 1, 256, [makeRun({ bottleneck: { verdict: "host", reason: "host CPUs 99 % busy" } })])], settings: { ...makeResults().settings, baseline: "microvm" } });
    const lines = conclusions(analyze(hostBound));
    assert.ok(lines.includes("No conclusion on /api/light: no run there was server-bound and whole (microvm (host-bound)); its figures stay in the tables as what this machine showed, not what the servers can do."), lines.join("\n"));
    assert.ok(!lines.some((l) => /per CPU on|serves/.test(l)), lines.join("\n"));
  });

  it("warn when other processes shared the machine", () => {
    const busy = makeResults({ variants: [makeVariant("standard", 2, 512, [makeRun({ hostBusy: 1, server: { cpuSeconds: 6, peakMemoryMb: 50, samples: 3 } })])] });
    // (1 − 0.05 interrupts) × 2 cores × 10 s = 19 CPU-s busy − 6 (server) − 5 (generator) = 8 CPU-s → 0.80 cores.
    assert.ok(conclusions(analyze(busy)).includes(
      "Other processes used 0.80 of the host's 2 cores on average during the runs: the machine was shared, so every figure here carries their load; rerun on a quiet machine before trusting differences.",
    ));
  });

  it("call out errors, concurrency-bound endpoints and noisy repetitions", () => {
    const slow = { endpoint: "/api/slow", server: { cpuSeconds: 0.3, peakMemoryMb: 50, samples: 40 } };
    const results = makeResults({
      settings: { ...makeResults().settings, endpoints: ["/api/light", "/api/slow"], repetitions: 2 },
      variants: [
        makeVariant("standard", 2, 512, [makeRun({ responses: 10_000 }), makeRun({ repetition: 1, responses: 14_000 }), makeRun(slow), makeRun({ ...slow, repetition: 1 })]),
        makeVariant("minimal", 0.5, 128, [
          makeRun({ errors: { connect: 0, socket: 0, timeouts: 0, non2xx: 500 } }),
          makeRun({ repetition: 1 }),
          makeRun(slow),
          makeRun({ ...slow, repetition: 1 }),
        ]),
      ],
    });
    const lines = conclusions(analyze(results));
    assert.ok(lines.includes("minimal failed 2.50 % of requests on /api/light."), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("On /api/slow every variant stayed below 25 % of its CPU budget")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("On /api/light every variant stayed below")));
    assert.ok(lines.some((l) => l.startsWith("Run-to-run spread above 10 % on standard /api/light (33 %)")), lines.join("\n"));
  });

  it("say where each variant broke in stress mode", () => {
    const base = makeResults();
    const results = makeResults({
      settings: { ...base.settings, mode: "stress", stress: { maxErrorRate: 0.01, maxP99Ms: 100, maxConnections: 64 } },
      variants: [
        makeVariant("standard", 2, 512, [
          makeRun({ connections: 8, responses: 8000 }),
          makeRun({ connections: 16, step: 1, responses: 9000, latencyMs: { p50: 50, p90: 90, p99: 150, max: 300, mean: 60 } }),
        ]),
      ],
    });
    const lines = conclusions(analyze(results));
    assert.ok(lines.includes("standard on /api/light held 8 connections (800.0 req/s) and broke at 16 (p99 150 ms > 100 ms)."), lines.join("\n"));
    assert.match(renderReport(results), /\| standard \| `\/api\/light` \| 8 \| 800\.0 \| 16 \| p99 150 ms > 100 ms \| 900\.0 \|/);
  });
});

describe("bench results schema and charts", () => {
  it("accepts the fixture and names bad fields", () => {
    assert.strictEqual(parseResults(JSON.parse(JSON.stringify(makeResults()))).variants.length, 4);
    const broken = JSON.parse(JSON.stringify(makeResults()));
    broken.variants[0].runs[0].latencyMs.p99 = -1;
    broken.settings.mode = "fast";
    assert.throws(() => parseResults(broken), /settings\.mode[\s\S]*variants\.0\.runs\.0\.latencyMs\.p99/);
  });

  it("builds chart specs from the figures and renders them to SVG", async () => {
    const specs = chartSpecs(analyze(makeResults()));
    assert.deepStrictEqual(specs.map((s) => s.file), ["throughput", "latency", "efficiency", "ladder"]);
    const throughput = specs[0].spec as { data: { values: { variant: string; value: number; text: string; established: boolean }[] }; facet: { row: { sort: string[] } } };
    assert.deepStrictEqual(throughput.data.values.map((v) => [v.variant, v.value, v.text, v.established]), [
      ["standard (2 CPUs, 512 MiB)", 1200, "1200.0 req/s (1 run) ⚠ not established: host-bound", false],
      ["microvm (1 CPU, 256 MiB)", 900, "900.0 req/s (1 run)", true],
      ["minimal (0.5 CPUs, 128 MiB)", 500, "500.0 req/s (1 run)", true],
    ]);
    assert.deepStrictEqual(throughput.facet.row.sort, ["/api/light"], "panels in the report's endpoint order");
    // Percentiles and efficiency metrics are told apart by colour, not opacity.
    const latency = JSON.stringify(specs[1].spec);
    assert.ok(!latency.includes('"opacity":{"field"') && latency.includes('"range":["#1b9e77","#d95f02","#7570b3"]'), latency);
    const svgs = await renderSvgs(specs);
    for (const { svg } of svgs) assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
    assert.match(svgs[0].svg, /microvm/);
  });
});
