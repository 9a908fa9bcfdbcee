/**
 * `npm run bench -- compare OLD_DIR NEW_DIR`: per variant and endpoint, the throughput and p99
 * change between two sessions, and whether it exceeds the run-to-run noise of both (pure apart
 * from reading the two results.json and writing the markdown).
 */
import * as fs from "fs";
import * as path from "path";
import { unsoundReason } from "./analysis";
import { textTable } from "./console";
import { EndpointFigures, figuresByEndpoint } from "./figures";
import { change, num, percent } from "./format";
import { UsageError } from "./errors";
import { BenchResults, parseResults, VariantResult } from "./schema";
import { summarize } from "./stats";

/** Noise assumed for a session measured without repetitions (no spread to read). */
export const DEFAULT_NOISE = 0.1;

export interface ComparisonLine {
  variant: string;
  endpoint: string;
  rps: { old: number; new: number; change: number };
  p99: { old: number; new: number; change: number };
  /** The larger of the two sessions' noise, per metric. */
  noise: { rps: number; p99: number };
  verdict: "changed" | "within noise";
  /** Runs behind either figure that were not server-bound and whole. */
  caveats: string[];
}

/** Spread of a metric over a figure's repetitions, or the default noise without repetitions. */
function noiseOf(values: readonly number[]): number {
  return values.length > 1 ? summarize(values).spread : DEFAULT_NOISE;
}

function p99s(variant: VariantResult, f: EndpointFigures): number[] {
  return variant.runs.filter((r) => r.endpoint === f.endpoint && r.connections === f.connections).map((r) => r.latencyMs.p99);
}

/** One line per variant and endpoint measured in both sessions, in the new session's order. */
export function compareResults(older: BenchResults, newer: BenchResults): ComparisonLine[] {
  const lines: ComparisonLine[] = [];
  for (const nv of newer.variants) {
    const ov = older.variants.find((v) => v.name === nv.name);
    if (ov === undefined || ov.runs.length === 0 || nv.runs.length === 0) continue;
    const oldFigures = figuresByEndpoint(ov);
    const newFigures = figuresByEndpoint(nv);
    for (const endpoint of newer.settings.endpoints) {
      const o = oldFigures.get(endpoint);
      const n = newFigures.get(endpoint);
      if (o === undefined || n === undefined) continue;
      const rpsNoise = Math.max(o.rps.n > 1 ? o.rps.spread : DEFAULT_NOISE, n.rps.n > 1 ? n.rps.spread : DEFAULT_NOISE);
      const p99Noise = Math.max(noiseOf(p99s(ov, o)), noiseOf(p99s(nv, n)));
      const rpsChange = o.rps.median === 0 ? 0 : n.rps.median / o.rps.median - 1;
      const p99Change = o.latencyMs.p99 === 0 ? 0 : n.latencyMs.p99 / o.latencyMs.p99 - 1;
      const changed = Math.abs(rpsChange) > rpsNoise || Math.abs(p99Change) > p99Noise;
      const caveats = [
        ...[unsoundReason(o, ov)].filter((x) => x !== null).map((x) => `old ${x}`),
        ...[unsoundReason(n, nv)].filter((x) => x !== null).map((x) => `new ${x}`),
      ];
      lines.push({
        variant: nv.name,
        endpoint,
        rps: { old: o.rps.median, new: n.rps.median, change: rpsChange },
        p99: { old: o.latencyMs.p99, new: n.latencyMs.p99, change: p99Change },
        noise: { rps: rpsNoise, p99: p99Noise },
        verdict: changed ? "changed" : "within noise",
        caveats,
      });
    }
  }
  return lines;
}

const ratio = (x: number) => change(1 + x);

function rows(lines: readonly ComparisonLine[]): string[][] {
  return lines.map((l) => [
    l.variant,
    l.endpoint,
    `${num(l.rps.old)} → ${num(l.rps.new)}`,
    ratio(l.rps.change),
    `${num(l.p99.old)} → ${num(l.p99.new)}`,
    ratio(l.p99.change),
    `±${percent(l.noise.rps, 0)} / ±${percent(l.noise.p99, 0)}`,
    l.verdict,
    l.caveats.join("; "),
  ]);
}

const HEAD = ["variant", "endpoint", "req/s", "Δ req/s", "p99 ms", "Δ p99", "noise req/s / p99", "verdict", "caveats"];

/** Markdown: a header naming both sessions, the table, and how the verdict is decided. */
export function renderComparison(oldDir: string, newDir: string, older: BenchResults, newer: BenchResults, lines: readonly ComparisonLine[]): string {
  const mdRow = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    "# OptiVolt bench — comparison",
    "",
    `**Old:** \`${oldDir}\` (${older.startedAt}, ${older.settings.mode}, path ${older.settings.path}, ${older.settings.repetitions} repetition(s))  `,
    `**New:** \`${newDir}\` (${newer.startedAt}, ${newer.settings.mode}, path ${newer.settings.path}, ${newer.settings.repetitions} repetition(s))`,
    "",
    mdRow(HEAD),
    mdRow(HEAD.map(() => "---")),
    ...rows(lines).map(mdRow),
    "",
    `\`changed\` when a change exceeds the run-to-run noise of both sessions: the spread between repetitions ((max − min) / median), ` +
      `or ${percent(DEFAULT_NOISE, 0)} for a session without repetitions. Caveats name figures that rest on runs that were not server-bound and whole.`,
    ...(older.settings.path !== newer.settings.path ? ["", `⚠️ The sessions used different measuring paths (${older.settings.path} vs ${newer.settings.path}): the change includes the path's own cost.`] : []),
    "",
  ].join("\n");
}

function load(dir: string): BenchResults {
  const file = path.join(dir, "results.json");
  if (!fs.existsSync(file)) throw new UsageError(`${dir} has no results.json; give the folders \`npm run bench -- --out DIR\` wrote`);
  try {
    return parseResults(JSON.parse(fs.readFileSync(file, "utf8")));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`);
  }
}

/** Parses `OLD_DIR NEW_DIR [--out FILE]`, compares, writes the markdown; UsageError on bad input. */
export function runCompare(argv: readonly string[]): { text: string; file: string; lines: ComparisonLine[] } {
  const args = [...argv];
  let out: string | null = null;
  const at = args.indexOf("--out");
  if (at >= 0) {
    out = args[at + 1] ?? null;
    if (out === null) throw new UsageError("compare --out needs a file name");
    args.splice(at, 2);
  }
  const unknown = args.find((a) => a.startsWith("-"));
  if (unknown !== undefined) throw new UsageError(`compare: unknown option '${unknown}'; usage: compare OLD_DIR NEW_DIR [--out FILE]`);
  if (args.length !== 2) throw new UsageError(`compare needs two result folders (OLD_DIR NEW_DIR), got ${args.length}`);
  const [oldDir, newDir] = args;
  const older = load(oldDir);
  const newer = load(newDir);
  const lines = compareResults(older, newer);
  if (lines.length === 0) {
    const names = (r: BenchResults) => r.variants.filter((v) => v.runs.length > 0).map((v) => v.name).join(", ") || "none";
    throw new UsageError(`no variant and endpoint measured in both: ${oldDir} has ${names(older)}, ${newDir} has ${names(newer)}`);
  }
  const file = out ?? path.join(newDir, "compare.md");
  fs.writeFileSync(file, renderComparison(oldDir, newDir, older, newer, lines));
  return { text: textTable(HEAD, rows(lines)), file, lines };
}
