/** Conclusions written from the numbers, never from expectations (pure). */
import { Analysis } from "./analysis";
import { num, percent, times } from "./format";
import { otherProcessesCores } from "./bottleneck";
import { variantStressOutcomes } from "./stress";

/** The endpoint the headline comparisons use: /api/light when measured (CPU-bound, small body), else the first. */
export function headlineEndpoint(a: Analysis): string | undefined {
  return a.endpoints.includes("/api/light") ? "/api/light" : a.endpoints[0];
}

const NOISE_CV = 0.1;
/** A server below this share of its budget was not what limited the run. */
const IDLE_SHARE = 0.25;
/** Average cores taken by unrelated processes from which the report warns that the machine was shared. */
const OTHERS_NOTABLE = 0.25;

export function conclusions(a: Analysis): string[] {
  const out: string[] = [];
  const { settings } = a.results;
  if (!a.results.complete) out.push("The run was interrupted: every figure below covers only what was measured before the interrupt.");
  if (a.measured.length === 0) {
    out.push("No variant was measured, so there is nothing to compare.");
    return out;
  }
  const headline = headlineEndpoint(a);
  const base = a.measured.find((v) => v.name === a.baseline);
  if (headline !== undefined && base !== undefined) {
    const baseCell = a.cell(base.name, headline);
    for (const v of a.measured) {
      if (v.name === base.name) continue;
      const cell = a.cell(v.name, headline);
      if (cell === undefined || baseCell === undefined || cell.relative.rps === null) continue;
      const cpuShare = v.budget.cpus !== null && base.budget.cpus !== null ? ` with ${percent(v.budget.cpus / base.budget.cpus, 0)} of its CPUs` : "";
      const memShare = v.budget.memoryMb !== null && base.budget.memoryMb !== null ? ` and ${percent(v.budget.memoryMb / base.budget.memoryMb, 0)} of its memory` : "";
      const perCpu = cell.relative.rpsPerCpu === null ? "" : `: ${times(cell.relative.rpsPerCpu)} the req/s per allocated CPU`;
      out.push(`On ${headline}, ${v.name} serves ${percent(cell.relative.rps, 0)} of ${base.name}'s throughput (${num(cell.figures.rps.median)} vs ${num(baseCell.figures.rps.median)} req/s)${cpuShare}${memShare}${perCpu}.`);
    }
  }
  if (headline !== undefined) {
    const best = (metric: "rpsPerCpu" | "requestsPerCpuSecond") =>
      a.measured
        .map((v) => ({ v, value: a.cell(v.name, headline)?.efficiency[metric] ?? null }))
        .filter((x): x is { v: (typeof a.measured)[number]; value: number } => x.value !== null)
        .sort((x, y) => y.value - x.value)[0];
    const perCpu = best("rpsPerCpu");
    if (perCpu !== undefined && a.measured.length > 1) out.push(`Most req/s per allocated CPU on ${headline}: ${perCpu.v.name} (${num(perCpu.value)}).`);
    const perUsed = best("requestsPerCpuSecond");
    if (perUsed !== undefined && a.measured.length > 1) {
      out.push(`Most requests per CPU-second actually used on ${headline}: ${perUsed.v.name} (${num(perUsed.value)}); a lower figure means more CPU spent per request (workers, GC, throttling), whatever the budget.`);
    }
  }
  for (const endpoint of a.endpoints) {
    const shares = a.measured.map((v) => {
      const f = a.cell(v.name, endpoint)?.figures;
      if (f === undefined || f.serverCpuSeconds === null || v.budget.cpus === null || f.durationSeconds === 0) return null;
      return f.serverCpuSeconds / f.durationSeconds / v.budget.cpus;
    });
    if (shares.length > 0 && shares.every((s) => s !== null && s < IDLE_SHARE)) {
      out.push(
        `On ${endpoint} every variant stayed below ${percent(IDLE_SHARE, 0)} of its CPU budget: throughput there is connections ÷ latency ` +
          `(${settings.connections} connections), so it does not rank the variants.`,
      );
    }
  }
  const allRuns = a.measured.flatMap((v) => v.runs.map((r) => ({ v: v.name, r })));
  const limited = allRuns.filter(({ r }) => r.bottleneck.verdict === "client" || r.bottleneck.verdict === "host");
  if (limited.length > 0) {
    const which = a.measured
      .map((v) => {
        const own = limited.filter((l) => l.v === v.name);
        const kinds = [...new Set(own.map((l) => l.r.bottleneck.verdict))].join("/");
        return own.length === 0 ? null : `${v.name} ${own.length} of ${v.runs.length} (${kinds})`;
      })
      .filter((w) => w !== null)
      .join(", ");
    out.push(
      `${limited.length} of ${allRuns.length} runs were limited by the load generator or the shared host, not by the server: ${which}. ` +
        "Their req/s are lower bounds of what the server can do; see \"What limited each run\" for the evidence.",
    );
  }
  const others = allRuns
    .map(({ r }) => otherProcessesCores({ ...r, serverCpuSeconds: r.server?.cpuSeconds ?? null, clientCpuSeconds: r.client.cpuSeconds, hostCores: a.results.provenance.machine.cores }))
    .filter((c): c is number => c !== null);
  const othersMean = others.length === 0 ? 0 : others.reduce((x, y) => x + y, 0) / others.length;
  if (othersMean >= OTHERS_NOTABLE) {
    out.push(
      `Other processes used ${num(othersMean)} of the host's ${a.results.provenance.machine.cores} cores on average during the runs: ` +
        "the machine was shared, so every figure here carries their load; rerun on a quiet machine before trusting differences.",
    );
  }
  for (const v of a.measured) {
    for (const endpoint of a.endpoints) {
      const f = a.cell(v.name, endpoint)?.figures;
      if (f === undefined) continue;
      if (f.errorRate > 0.001 && settings.mode !== "stress") out.push(`${v.name} failed ${percent(f.errorRate, 2)} of requests on ${endpoint}.`);
      if (f.peakMemoryMb !== null && v.budget.memoryMb !== null && f.peakMemoryMb > 0.9 * v.budget.memoryMb) {
        out.push(`${v.name} peaked at ${num(f.peakMemoryMb)} MB of its ${v.budget.memoryMb} MB budget on ${endpoint}: close to the OOM limit.`);
      }
    }
  }
  if (settings.mode === "stress") {
    for (const v of a.measured) {
      for (const o of variantStressOutcomes(v, settings.stress)) {
        const held = o.held === null ? "did not hold even the first step" : `held ${o.held.connections} connections (${num(o.held.rps)} req/s)`;
        const broke = o.broke === null ? "and never broke up to the last step" : `and broke at ${o.broke.connections} (${o.broke.reason})`;
        out.push(`${v.name} on ${o.endpoint} ${held} ${broke}.`);
      }
    }
  }
  const noisy = a.measured.flatMap((v) => a.endpoints.map((e) => ({ v: v.name, e, f: a.cell(v.name, e)?.figures })))
    .filter(({ f }) => f !== undefined && f.repetitions > 1 && f.rps.cv > NOISE_CV);
  if (settings.repetitions === 1) {
    out.push("One repetition only: on a shared machine single runs vary by 15 % or more, so differences smaller than that are not evidence; use --repetitions 3 for figures to rely on.");
  } else if (noisy.length > 0) {
    out.push(`Run-to-run spread above ${percent(NOISE_CV, 0)} on ${noisy.map(({ v, e, f }) => `${v} ${e} (cv ${percent(f?.rps.cv ?? 0, 0)})`).join(", ")}: smaller differences there are noise.`);
  }
  return out;
}
