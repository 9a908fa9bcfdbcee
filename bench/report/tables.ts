/** The plan printed before the runs and the comparison table printed after them (pure). */
import { analyze, variantTitle, versusBaseline } from "../numbers/analysis";
import { conclusions } from "./conclusions";
import { budgetText, DASH, formatSeconds, num, percent } from "../numbers/format";
import { BenchResults, BenchSettings, VariantResult } from "../schema";

/** A fixed-width text table: columns padded to their widest cell. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export interface PlanInput {
  settings: BenchSettings;
  pathSummary: string;
  engineLine: string;
  variants: readonly VariantResult[];
  runs: number;
  plannedSeconds: number;
}

function variantLine(v: VariantResult): string[] {
  const cores = v.enforced === null ? "" : v.enforced.cpuset === "" ? ", any core" : `, core(s) ${v.enforced.cpuset}`;
  const generator = v.generator === null ? "" : v.generator.cpuset === null ? "generator unpinned" : `generator on ${v.generator.cpuset}`;
  // A QEMU variant is reached through its forwarded port whatever the session's path.
  // A server that is no container is reached directly on the host network (bench/reach/paths.ts).
  const reach = v.provenance.isolation === "qemu" ? "qemu user-net forward" : v.networkPath?.startsWith("direct:") ? "direct (not a container)" : "";
  const load = [reach, generator].filter((x) => x !== "").join(", ");
  const where = v.status !== "measured" ? `${v.status}: ${v.detail ?? ""}` : load;
  return [variantTitle(v), v.url ?? DASH, `${budgetText(v.budget.cpus, v.budget.memoryMb)}${cores}`, v.runtime ?? DASH, where];
}

/** The header: what will run, how, for how long; then every warning, before the first request. */
export function planHeader(p: PlanInput): string[] {
  const s = p.settings;
  const measured = p.variants.filter((v) => v.status === "measured");
  const per = s.mode === "stress" ? `per step, connections ${s.connections} doubling to ${s.stress.maxConnections}` : `${s.connections} connections`;
  const lines = [
    `OptiVolt bench: ${s.mode} mode, ${measured.length} variant${measured.length === 1 ? "" : "s"} × ${s.endpoints.length} endpoint${s.endpoints.length === 1 ? "" : "s"} × ${s.repetitions} repetition${s.repetitions === 1 ? "" : "s"} = ${p.runs} runs`,
    `  path:      ${p.pathSummary}`,
    `  engine:    ${p.engineLine}`,
    `  durations: ${s.warmupSeconds} s warm-up + ${s.durationSeconds} s measured per run (${per}), endpoints ${s.endpoints.join(" ")}`,
    `  total:     about ${formatSeconds(p.plannedSeconds)}`,
    "",
    ...textTable(["variant", "url", "limits (enforced)", "runtime", "load"], p.variants.map(variantLine)).split("\n").map((l) => `  ${l}`),
  ];
  const warnings = p.variants.flatMap((v) => [...v.warnings.map((w) => `${v.name}: ${w}`), ...(v.notMeasurable === null ? [] : [`${v.name}: ${v.notMeasurable}`])]);
  if (warnings.length > 0) lines.push("", ...warnings.map((w) => `  ⚠ ${w}`));
  lines.push("");
  return lines;
}

/** The comparison table and the conclusions, for the terminal at the end of a session. */
export function consoleSummary(results: BenchResults): string {
  const a = analyze(results);
  if (a.measured.length === 0) return "Nothing was measured.\n";
  const rows = a.endpoints.flatMap((endpoint) =>
    a.measured.flatMap((v) => {
      const c = a.cell(v.name, endpoint);
      if (c === undefined) return [];
      const f = c.figures;
      const cores = f.serverCpuSeconds === null || f.durationSeconds === 0 ? DASH : `${num(f.serverCpuSeconds / f.durationSeconds)}/${v.budget.cpus ?? "?"}`;
      const proxy = f.proxyCpuSeconds === null ? DASH : num(f.proxyCpuSeconds);
      return [[
        endpoint,
        variantTitle(v) + (v.runtime === null ? "" : ` (${v.runtime})`),
        num(f.rps.median),
        f.repetitions > 1 ? percent(f.rps.spread, 0) : DASH,
        versusBaseline(a, v, c.relative.rps),
        num(f.latencyMs.p99),
        num(c.efficiency.rpsPerCpu),
        cores,
        proxy,
        c.unsound === null ? "server-bound" : c.unsound,
      ]];
    }),
  );
  const table = textTable(["endpoint", "variant", "req/s", "spread", "vs base", "p99 ms", "req/s/CPU", "CPUs used", "proxy CPU-s", "verdict"], rows);
  const partial = results.complete ? "" : "PARTIAL: interrupted; every figure covers only what ran before the interrupt.\n";
  const notes = conclusions(a).map((c, i) => `${i + 1}. ${c}`);
  return `\n${partial}${table}\n\n${notes.join("\n")}\n`;
}
