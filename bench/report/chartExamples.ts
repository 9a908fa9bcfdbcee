/**
 * `npm run bench:chart-examples [-- DIR]`: every chart the bench draws, from fixed example sessions,
 * as SVG and PNG (docs/charts/ by default), so a reader sees them without running anything. The
 * sessions hold what a chart must show well: a row with 47 % spread, an emulated row 100× below
 * the others, a one-variant session, the ladder (containers, micro-VM, unikernel), and a comparison of two sessions.
 */
import * as fs from "fs";
import * as path from "path";
import { analyze } from "../numbers/analysis";
import { chartSpecs, renderSvgs } from "./charts";
import { compareResults } from "./compare";
import { compareChartSpec } from "./compareChart";
import { BenchResults, BootTime, GuestKind, RunResult, VariantResult } from "../schema";

const SETTINGS: BenchResults["settings"] = {
  mode: "quick",
  engine: "wrk",
  endpoints: ["/", "/api/light"],
  durationSeconds: 10,
  warmupSeconds: 3,
  connections: 50,
  threads: 1,
  repetitions: 3,
  timeoutSeconds: 5,
  sampleIntervalMs: 250,
  baseline: "standard",
  path: "namespace",
  wattsPerCore: 10,
  stress: { maxErrorRate: 0.01, maxP99Ms: 2000, maxConnections: 1024 },
  source: "example sessions (bench/report/chartExamples.ts)",
};

/** A server-bound run of `rps` req/s over 10 s. */
function run(endpoint: string, repetition: number, rps: number, cpus: number, p99: number): RunResult {
  return {
    endpoint,
    repetition,
    step: 0,
    connections: 50,
    durationSeconds: 10,
    responses: Math.round(rps * 10),
    bytes: rps * 10 * 120,
    latencyMs: { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2, mean: p99 / 3 },
    errors: { connect: 0, socket: 0, timeouts: 0, non2xx: 0 },
    server: { cpuSeconds: cpus * 9.8, peakMemoryMb: 40, samples: 40 },
    warmupCpuSeconds: cpus * 2.9,
    client: { engine: "wrk", cpuSeconds: 6, cores: 1 },
    proxyCpuSeconds: null,
    hostBusy: 0.8,
    hostInterrupts: 0.05,
    hostSteal: 0,
    hostOthers: null,
    referenceMs: 110,
    raplJoules: null,
    bottleneck: { verdict: "server", reason: "server at 98 % of its CPU budget" },
    partial: false,
  };
}

/** A rung's own record: its guest kind, boot and memory floor (the ladder's columns). */
interface Rung {
  guest: GuestKind;
  boot: BootTime;
  floorMb: number;
}

function variant(name: string, runtime: string, cpus: number, memoryMb: number, perEndpoint: Record<string, number[]>, p99: number, accel: "kvm" | "tcg" | null = null, rung?: Partial<Rung>): VariantResult {
  return {
    name,
    url: "http://127.0.0.1:8000",
    status: "measured",
    detail: null,
    runtime,
    budget: { cpus, memoryMb, source: "target" },
    declared: { cpus, memoryMb },
    enforced: accel === null ? { cpus, memoryMb, cpuset: "0" } : null,
    generator: null,
    notMeasurable: null,
    container: accel === null ? { name: `optivolt-${name}`, id: `${name}-id` } : null,
    statsSource: accel === null ? "cgroup" : "process",
    provenance: { isolation: accel === null ? "container" : "qemu", accel, guest: accel === null ? null : (rung?.guest ?? "unikernel") },
    boot: rung?.boot ?? null,
    memoryFloor: rung?.floorMb === undefined ? null : { mb: rung.floorMb, source: "example floor" },
    networkPath: null,
    warnings: [],
    runs: Object.entries(perEndpoint).flatMap(([endpoint, values]) => values.map((rps, repetition) => run(endpoint, repetition, rps, cpus, p99))),
  };
}

const session = (variants: VariantResult[], repetitions: number): BenchResults => ({
  schemaVersion: 2,
  startedAt: "2026-12-03T15:00:00.000Z",
  finishedAt: "2026-12-03T15:05:00.000Z",
  complete: true,
  settings: { ...SETTINGS, repetitions, baseline: variants[0].name },
  provenance: {
    machine: { os: "Debian GNU/Linux 13", kernel: "6.12", cpuModel: "example", cores: 2, memoryMb: 7936 },
    tools: { wrk: "4.1.0" },
    energySource: "estimate",
    userlandProxy: { enabled: true, evidence: "example" },
    command: "npm run bench:chart-examples",
  },
  variants,
});

/** Three variants and an emulated unikernel; minimal's `/` runs spread by 47 %. */
export function exampleSession(): BenchResults {
  return session(
    [
      variant("standard", "node", 2, 512, { "/": [36_100, 35_400, 36_800], "/api/light": [34_900, 35_300, 34_600] }, 6),
      variant("microvm", "node", 1, 256, { "/": [30_200, 31_000, 29_700], "/api/light": [28_800, 29_400, 28_900] }, 7),
      variant("minimal", "node", 0.5, 128, { "/": [12_400, 15_300, 9_500], "/api/light": [15_200, 15_600, 14_900] }, 40),
      variant("unikernel", "node", 1, 480, { "/": [352, 340, 361], "/api/light": [331, 325, 338] }, 290, "tcg"),
    ],
    3,
  );
}

const probed = (byMs: number): BootTime => ({ afterMs: 0, byMs, source: "health-log", detail: "example: Docker health probes every 10 s" });
const timed = (ms: number): BootTime => ({ afterMs: ms, byMs: ms, source: "boot.json", detail: "example: the runner's boot.json" });

/** The ladder: three container budgets on Node, then the micro-VM and the unikernel under TCG, 3 repetitions. */
export function ladderSession(): BenchResults {
  const light = "/api/light";
  const heavy = "/api/heavy";
  const ladder = session(
      [
        variant("standard", "node", 2, 512, { [light]: [34_900, 35_300, 34_600], [heavy]: [410, 402, 415] }, 6, null, { boot: probed(10_400), floorMb: 88 }),
        variant("microvm", "node", 1, 256, { [light]: [28_800, 29_400, 28_900], [heavy]: [260, 255, 262] }, 7, null, { boot: probed(10_300), floorMb: 88 }),
        variant("minimal", "node", 0.5, 128, { [light]: [15_200, 15_600, 14_900], [heavy]: [120, 118, 123] }, 40, null, { boot: probed(10_500), floorMb: 88 }),
        variant("microvm-vm", "node", 1, 256, { [light]: [182, 176, 185], [heavy]: [9.1, 8.8, 9.3] }, 420, "tcg", { guest: "microvm", boot: timed(9_700), floorMb: 256 }),
        variant("unikernel", "node", 1, 480, { [light]: [331, 325, 338], [heavy]: [14.2, 13.9, 14.6] }, 290, "tcg", { guest: "unikernel", boot: timed(5_700), floorMb: 480 }),
      ],
      3,
  );
  return { ...ladder, settings: { ...ladder.settings, endpoints: [light, heavy] } };
}

/** One variant, measured once: nothing to compare it with. */
export function oneVariantSession(): BenchResults {
  return session([variant("microvm", "node", 1, 256, { "/": [30_200], "/api/light": [28_800] }, 7)], 1);
}

/** The same microvm before and after a quarter of its CPU quota, 3 repetitions each. */
export function exampleComparison(): { older: BenchResults; newer: BenchResults } {
  const older = session([variant("microvm", "node", 1, 256, { "/": [30_200, 31_000, 29_700], "/api/light": [28_800, 29_400, 28_900] }, 7)], 3);
  const newer = session([variant("microvm", "node", 0.25, 256, { "/": [29_800, 31_400, 30_100], "/api/light": [7_300, 7_150, 7_420] }, 7)], 3);
  return { older, newer };
}

/** Every example chart as SVG: `<session>-<chart>` and `compare`. */
export async function exampleSvgs(): Promise<{ file: string; svg: string }[]> {
  const { older, newer } = exampleComparison();
  const specs = [
    // The ladder chart is drawn once, from the session that holds every rung.
    ...chartSpecs(analyze(exampleSession())).filter(({ file }) => file !== "ladder").map(({ file, spec }) => ({ file: `example-${file}`, spec })),
    ...chartSpecs(analyze(oneVariantSession())).filter(({ file }) => file !== "ladder").map(({ file, spec }) => ({ file: `one-variant-${file}`, spec })),
    ...chartSpecs(analyze(ladderSession())).filter(({ file }) => file === "ladder").map(({ spec }) => ({ file: "ladder", spec })),
    { file: "compare", spec: compareChartSpec(compareResults(older, newer)) },
  ];
  return renderSvgs(specs);
}

/** A PNG of an SVG at twice its size, with the system's fonts; resvg is a dev dependency, loaded only here. */
export function svgToPng(svg: string): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Resvg } = require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  return new Resvg(svg, { background: "white", fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
}

/** Writes every example chart as SVG and PNG into `dir`; returns the PNG files. */
export async function writeExamples(dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const { file, svg } of await exampleSvgs()) {
    fs.writeFileSync(path.join(dir, `${file}.svg`), svg);
    const png = path.join(dir, `${file}.png`);
    fs.writeFileSync(png, svgToPng(svg));
    written.push(png);
  }
  return written;
}

if (require.main === module) {
  const dir = process.argv[2] ?? path.join(__dirname, "..", "..", "docs", "charts");
  writeExamples(dir).then(
    (files) => process.stdout.write(`${files.join("\n")}\n`),
    (err: unknown) => {
      process.stderr.write(`chart examples failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
