/**
 * `npm run bench -- compare OLD_DIR NEW_DIR`: per variant and endpoint, the throughput and p99
 * change between two sessions, each judged against the noise of both sessions, with the machine's
 * own noise (reference workload, steal time) beside them (pure apart from reading the two
 * results.json and writing the markdown and the chart).
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { commandLine, parseCommandLine } from "../../tooling/commandLine";
import { unsoundReason } from "../numbers/analysis";
import { renderSvgs } from "./charts";
import { compareChartSpec } from "./compareChart";
import { ComparisonLine, MachineReading, MACHINE_CHANGED, NOT_EVIDENCE, NOT_SERVER_BOUND, SessionFigure, Verdict } from "./comparison";
import { textTable } from "./tables";
import { EndpointFigures, figuresByEndpoint } from "../numbers/figures";
import { change, num, percent } from "../numbers/format";
import { UsageError } from "../errors";
import { fastestReference, machineFlag, OTHERS_BOUND, REFERENCE_BOUND, STEAL_BOUND } from "../counters/reference";
import { BenchResults, parseResults, RunResult, VariantResult } from "../schema";
import { DEFAULT_NOISE, median, SESSION_NOISE_FLOOR, summarize } from "../numbers/stats";


function sessionFigure(values: readonly number[], metric: "rps" | "p99"): SessionFigure {
  const s = summarize(values);
  const figure = { median: s.median, min: s.min, max: s.max, repetitions: s.n };
  if (s.n < 2) return { ...figure, noise: DEFAULT_NOISE[metric], noiseSource: "default" };
  const floor = SESSION_NOISE_FLOOR[metric];
  return s.spread >= floor ? { ...figure, noise: s.spread, noiseSource: "spread" } : { ...figure, noise: floor, noiseSource: "floor" };
}

const runsOf = (variant: VariantResult, f: EndpointFigures): RunResult[] => variant.runs.filter((r) => r.endpoint === f.endpoint && r.connections === f.connections);
const successRps = (r: RunResult) => (r.durationSeconds === 0 ? 0 : (r.responses - r.errors.non2xx) / r.durationSeconds);

function machineReading(variant: VariantResult, runs: readonly RunResult[]): MachineReading {
  const fastest = fastestReference(variant.runs);
  const references = runs.map((r) => r.referenceMs).filter((ms): ms is number => ms !== null);
  const steals = runs.map((r) => r.hostSteal).filter((s): s is number => s !== null);
  const others = runs.map((r) => r.hostOthers).filter((s): s is number => s !== null);
  return {
    referenceMs: references.length === 0 ? null : median(references),
    steal: steals.length === 0 ? null : Math.max(...steals),
    others: others.length === 0 ? null : median(others),
    flagged: runs.map((r) => machineFlag(r, fastest).reason).filter((x): x is string => x !== null).map((reason) => `${variant.name} ${runs[0].endpoint}: ${reason}`),
  };
}

/** The machine's speed, new relative to old, as one of its readings tells it. */
interface MachineSpeed {
  ratio: number;
  text: string;
}

/** The reference workload's speed ratio, new relative to old, times the share of CPU not stolen; null without both readings. */
function referenceSpeed(o: MachineReading, n: MachineReading): number | null {
  if (o.referenceMs === null || n.referenceMs === null) return null;
  return (o.referenceMs / n.referenceMs) * ((1 - (n.steal ?? 0)) / (1 - (o.steal ?? 0)));
}

/**
 * The machine's speed, new relative to old, by each reading both sessions have: the reference
 * workload's speed ratio times the share of CPU not stolen, and the share of the variant's cores
 * other processes left to it (the reference is sampled before each run and can miss another user's
 * load during it).
 */
function machineSpeeds(o: MachineReading, n: MachineReading): MachineSpeed[] {
  const speeds: MachineSpeed[] = [];
  const reference = referenceSpeed(o, n);
  if (reference !== null && o.referenceMs !== null && n.referenceMs !== null) {
    speeds.push({ ratio: reference, text: `reference workload ${change(n.referenceMs / o.referenceMs)} in time (machine ${change(reference)} in speed)` });
  }
  if (o.others !== null && n.others !== null && o.others < 1 && n.others < 1) {
    const ratio = (1 - n.others) / (1 - o.others);
    speeds.push({ ratio, text: `other processes used ${percent(o.others, 0)} → ${percent(n.others, 0)} of the variant's cores (share left to it ${change(ratio)})` });
  }
  return speeds;
}

/**
 * Whether the machine moved beyond the bounds between or during the sessions (a reference more
 * than the bound apart, or a run flagged for steal, others' load or a slow reference), and the
 * speeds its readings give.
 */
function machineMovement(o: MachineReading, n: MachineReading): { moved: boolean; speeds: MachineSpeed[] } {
  const reference = referenceSpeed(o, n);
  const referenceMoved = reference !== null && Math.abs(reference - 1) > REFERENCE_BOUND;
  return { moved: referenceMoved || o.flagged.length > 0 || n.flagged.length > 0, speeds: machineSpeeds(o, n) };
}

/**
 * Whether the machine's speed accounts for a metric's change: the new figure is within noise of the
 * old one scaled by it. Throughput scales with the machine's speed; a CPU-bound server's latency at a
 * fixed number of connections scales with its inverse (the queue drains that much faster or slower).
 */
function explainedByMachine(speed: number, figure: { old: SessionFigure; new: SessionFigure }, noise: number, scales: "with speed" | "against speed"): boolean {
  const expected = scales === "with speed" ? figure.old.median * speed : figure.old.median / speed;
  return expected !== 0 && Math.abs(figure.new.median / expected - 1) <= noise;
}

const overlap = (a: SessionFigure, b: SessionFigure) => a.min <= b.max && b.min <= a.max;

/** "<reading>; scaled by it, the new req/s and p99 are within noise of the old", one clause per reading used; null when none. */
function explanationOf(metrics: [string, MachineSpeed | null][]): string | null {
  const byReading = new Map<string, string[]>();
  for (const [metric, speed] of metrics) if (speed !== null) byReading.set(speed.text, [...(byReading.get(speed.text) ?? []), metric]);
  if (byReading.size === 0) return null;
  return [...byReading].map(([text, explained]) => `${text}; scaled by it, the new ${explained.join(" and ")} ${explained.length > 1 ? "are" : "is"} within noise of the old`).join("; ");
}

/**
 * Whether a session's figure measures the server: every run whole, and none limited by the load
 * generator's side (host-bound, client-bound) or short of saturating the server. A run whose
 * bottleneck could not be classified (no CPU figures) is given the benefit of the doubt; its
 * caveat stays in the notes.
 */
const serverBound = (f: EndpointFigures) => !f.partial && f.bottlenecks.every((b) => b === "server" || b === "unknown");

/**
 * Whether a `changed` on req/s stands: a run that did not saturate the server measured a lower
 * bound of what it can serve, so a drop is evidence when the new session measured the server, a
 * rise when the old one did.
 */
const rpsChangeStands = (o: EndpointFigures, n: EndpointFigures, delta: number) => (delta < 0 ? serverBound(n) : serverBound(o));

/**
 * The verdict on one metric: with one repetition in either session, not evidence; else `changed`
 * when the change exceeds both sessions' noise and their ranges do not overlap.
 */
function verdictOf(o: SessionFigure, n: SessionFigure, delta: number): Verdict {
  if (o.repetitions < 2 || n.repetitions < 2) return NOT_EVIDENCE;
  return Math.abs(delta) > Math.max(o.noise, n.noise) && !overlap(o, n) ? "changed" : "within noise";
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
      const oldRuns = runsOf(ov, o);
      const newRuns = runsOf(nv, n);
      const rpsOld = sessionFigure(oldRuns.map(successRps), "rps");
      const rpsNew = sessionFigure(newRuns.map(successRps), "rps");
      const p99Old = sessionFigure(oldRuns.map((r) => r.latencyMs.p99), "p99");
      const p99New = sessionFigure(newRuns.map((r) => r.latencyMs.p99), "p99");
      const rpsChange = rpsOld.median === 0 ? 0 : rpsNew.median / rpsOld.median - 1;
      const p99Change = p99Old.median === 0 ? 0 : p99New.median / p99Old.median - 1;
      const machineOld = machineReading(ov, oldRuns);
      const machineNew = machineReading(nv, newRuns);
      const rps = { old: rpsOld, new: rpsNew, change: rpsChange };
      const p99 = { old: p99Old, new: p99New, change: p99Change };
      const movement = machineMovement(machineOld, machineNew);
      const speeds = movement.moved ? movement.speeds : [];
      const rpsSpeed = speeds.find((speed) => explainedByMachine(speed.ratio, rps, Math.max(rpsOld.noise, rpsNew.noise), "with speed")) ?? null;
      const p99Speed = speeds.find((speed) => explainedByMachine(speed.ratio, p99, Math.max(p99Old.noise, p99New.noise), "against speed")) ?? null;
      const rpsExplained = rpsSpeed !== null;
      const p99Explained = p99Speed !== null;
      const judged = (verdict: Verdict, explained: boolean, stands: boolean): Verdict => (verdict !== "changed" ? verdict : explained ? MACHINE_CHANGED : stands ? verdict : NOT_SERVER_BOUND);
      const explanation = explanationOf([
        ["req/s", rpsSpeed],
        ["p99", p99Speed],
      ]);
      const caveats = [
        ...[unsoundReason(o, ov)].filter((x) => x !== null).map((x) => `old ${x}`),
        ...[unsoundReason(n, nv)].filter((x) => x !== null).map((x) => `new ${x}`),
        ...[...machineOld.flagged.map((f) => `old ${f}`), ...machineNew.flagged.map((f) => `new ${f}`)],
      ];
      lines.push({
        variant: nv.name,
        endpoint,
        rps: { ...rps, verdict: judged(verdictOf(rpsOld, rpsNew, rpsChange), rpsExplained, rpsChangeStands(o, n, rpsChange)) },
        p99: { ...p99, verdict: judged(verdictOf(p99Old, p99New, p99Change), p99Explained, serverBound(o) && serverBound(n)) },
        machine: { old: machineOld, new: machineNew, moved: movement.moved, explanation },
        caveats,
      });
    }
  }
  return lines;
}

const ratio = (x: number) => change(1 + x);
const noiseText = (f: SessionFigure) => `±${percent(f.noise, 0)}${f.noiseSource === "spread" ? "" : ` (${f.noiseSource})`}`;
const machineText = (m: MachineReading) =>
  `${m.referenceMs === null ? "—" : `${num(m.referenceMs)} ms`} / ${m.steal === null ? "—" : percent(m.steal, 1)} / ${m.others === null ? "—" : percent(m.others, 0)}`;

function rows(lines: readonly ComparisonLine[]): string[][] {
  return lines.map((l) => [
    l.variant,
    l.endpoint,
    `${num(l.rps.old.median)} → ${num(l.rps.new.median)}`,
    ratio(l.rps.change),
    `${noiseText(l.rps.old)} / ${noiseText(l.rps.new)}`,
    l.rps.verdict,
    `${num(l.p99.old.median)} → ${num(l.p99.new.median)}`,
    ratio(l.p99.change),
    `${noiseText(l.p99.old)} / ${noiseText(l.p99.new)}`,
    l.p99.verdict,
    `${machineText(l.machine.old)} → ${machineText(l.machine.new)}`,
    [...(l.machine.explanation === null ? [] : [l.machine.explanation]), ...l.caveats].join("; "),
  ]);
}

const HEAD = ["variant", "endpoint", "req/s", "Δ req/s", "noise old / new", "req/s verdict", "p99 ms", "Δ p99", "p99 noise old / new", "p99 verdict", "machine: reference / steal / others", "notes"];

/** Markdown: a header naming both sessions, the chart, the table, and how each verdict is decided. */
export function renderComparison(oldDir: string, newDir: string, older: BenchResults, newer: BenchResults, lines: readonly ComparisonLine[], chart: string | null): string {
  const mdRow = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const single = lines.some((l) => l.rps.verdict === NOT_EVIDENCE);
  return [
    "# OptiVolt bench — comparison",
    "",
    `**Old:** \`${oldDir}\` (${older.startedAt}, ${older.settings.mode}, path ${older.settings.path}, ${older.settings.repetitions} repetition(s))  `,
    `**New:** \`${newDir}\` (${newer.startedAt}, ${newer.settings.mode}, path ${newer.settings.path}, ${newer.settings.repetitions} repetition(s))`,
    ...(single ? ["", `> ⚠️ ${NOT_EVIDENCE}: a session measured once has no spread of its own; its noise is the default ±${percent(DEFAULT_NOISE.rps, 0)} (req/s) and ±${percent(DEFAULT_NOISE.p99, 0)} (p99), the largest change measured between back-to-back sessions of one unchanged container. Use --repetitions 3.`] : []),
    "",
    ...(chart === null ? [] : [`![Change per variant and endpoint, with both sessions' noise](${chart})`, ""]),
    mdRow(HEAD),
    mdRow(HEAD.map(() => "---")),
    ...rows(lines).map(mdRow),
    "",
    "Each metric gets its own verdict: a p99 change alone never makes req/s `changed`. " +
      `\`changed\` when both sessions have repetitions, the change exceeds the noise of both (each session's spread between repetitions, (max − min) / median, but no less than the floor between sessions: ±${percent(SESSION_NOISE_FLOOR.rps, 0)} for req/s, ±${percent(SESSION_NOISE_FLOOR.p99, 0)} for p99, since repetitions run back to back and two sessions apart differ more) and the two sessions' ranges do not overlap; ` +
      `\`${NOT_EVIDENCE}\` when either session measured the figure once. ` +
      `\`${MACHINE_CHANGED}\`: the change exceeds the noise, but the machine moved beyond its bounds (reference workload more than ${percent(REFERENCE_BOUND, 0)} apart, a run with over ${percent(STEAL_BOUND, 0)} steal or with over ${percent(OTHERS_BOUND, 0)} of the variant's cores used by other processes) and scaling by the machine's speed (the reference's, or the share of its cores others left it; req/s by it, p99 by its inverse) brings that figure within noise. ` +
      `\`${NOT_SERVER_BOUND}\`: the change exceeds the noise, but it rests on runs that did not measure the server (not saturated, limited by the load generator's side, or partial): for req/s such a run is a lower bound, so a drop stands only when the new session was server-bound and a rise only when the old one was; a p99 change needs both. ` +
      "Machine: median time of the fixed reference workload on the variant's cores before each run, the highest share of CPU time stolen by the hypervisor during a run, and the median share of the variant's own cores other processes used during its runs (— when it shares its cores). " +
      "Notes name figures that rest on runs that were not server-bound and whole, and runs during which the machine moved.",
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

function compareProgram(): Command {
  return commandLine("npm run bench -- compare", { output: "silent" })
    .description("Compare two bench sessions: per variant and endpoint, the req/s and p99 change against both sessions' noise, and the machine's own noise.")
    .argument("<OLD_DIR>", "folder of the older session (its results.json)")
    .argument("<NEW_DIR>", "folder of the newer session")
    .option("--out <file>", "markdown output (default NEW_DIR/compare.md; the chart goes beside it as compare.svg)");
}

/** The compare subcommand's help text. */
export function compareUsage(): string {
  return compareProgram().helpInformation();
}

/** Parses `OLD_DIR NEW_DIR [--out FILE]`; "help" for --help; UsageError on bad input. */
export function parseCompareArgs(argv: readonly string[]): { oldDir: string; newDir: string; out: string | null } | "help" {
  const program = compareProgram();
  if (parseCommandLine(program, argv, (m) => `compare: ${m}; usage: compare OLD_DIR NEW_DIR [--out FILE]`) === "help") return "help";
  const [oldDir, newDir] = program.args;
  return { oldDir, newDir, out: program.opts<{ out?: string }>().out ?? null };
}

/** Compares, writes the markdown and its chart; UsageError on bad input. */
export async function runCompare(argv: readonly string[]): Promise<{ text: string; file: string; chart: string | null; chartError: string | null; lines: ComparisonLine[] } | "help"> {
  const parsed = parseCompareArgs(argv);
  if (parsed === "help") return "help";
  const { oldDir, newDir, out } = parsed;
  const older = load(oldDir);
  const newer = load(newDir);
  const lines = compareResults(older, newer);
  if (lines.length === 0) {
    const names = (r: BenchResults) => r.variants.filter((v) => v.runs.length > 0).map((v) => v.name).join(", ") || "none";
    throw new UsageError(`no variant and endpoint measured in both: ${oldDir} has ${names(older)}, ${newDir} has ${names(newer)}`);
  }
  const file = out ?? path.join(newDir, "compare.md");
  const chartFile = file.replace(/(\.md)?$/, ".svg");
  let chart: string | null = null;
  let chartError: string | null = null;
  try {
    const [{ svg }] = await renderSvgs([{ file: "compare", spec: compareChartSpec(lines) }]);
    fs.writeFileSync(chartFile, svg);
    chart = chartFile;
  } catch (err) {
    // The table is the result; a chart that cannot be drawn costs only the picture.
    chartError = (err as Error).message;
  }
  fs.writeFileSync(file, renderComparison(oldDir, newDir, older, newer, lines, chart === null ? null : path.relative(path.dirname(file), chart)));
  return { text: textTable(HEAD, rows(lines)), file, chart, chartError, lines };
}
