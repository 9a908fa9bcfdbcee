/** Conclusions written from the numbers, never from expectations (pure). */
import { Analysis, Cell, EMULATED, isEmulated, unsoundAmongPeers } from "../numbers/analysis";
import { bootText, LADDER_ENDPOINTS } from "./ladder";
import { ratio } from "../numbers/stats";
import { VariantResult } from "../schema";
import { num, percent, times } from "../numbers/format";
import { fastestReference, machineFlag } from "../counters/reference";
import { DEFAULT_NOISE, NOISE_SPREAD } from "../numbers/stats";
import { otherProcessesCores } from "../numbers/bottleneck";
import { variantStressOutcomes } from "../numbers/stress";

/** The endpoint the headline comparisons use: /api/light when measured (CPU-bound, small body), else the first. */
export function headlineEndpoint(a: Analysis): string | undefined {
  return a.endpoints.includes("/api/light") ? "/api/light" : a.endpoints[0];
}

/** A server below this share of its budget was not what limited the run. */
const IDLE_SHARE = 0.25;
/** Average cores taken by unrelated processes from which the report warns that the machine was shared. */
const OTHERS_NOTABLE = 0.25;

/** Runs the load generator or the shared host limited, and a machine other processes kept busy. */
function runLimitConclusions(a: Analysis): string[] {
  const out: string[] = [];
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
  return out;
}

export function conclusions(a: Analysis): string[] {
  const out: string[] = [];
  const { settings } = a.results;
  if (!a.results.complete) out.push("The run was interrupted: every figure below covers only what was measured before the interrupt.");
  if (a.measured.length === 0) {
    out.push("No variant was measured, so there is nothing to compare.");
    return out;
  }
  const headline = headlineEndpoint(a);
  if (headline !== undefined) out.push(...headlineConclusions(a, headline));
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
  out.push(...runLimitConclusions(a));
  out.push(...vmVersusVm(a));
  for (const v of a.measured) {
    for (const endpoint of a.endpoints) {
      const f = a.cell(v.name, endpoint)?.figures;
      if (f === undefined) continue;
      if (f.errorRate > 0.001 && settings.mode !== "stress") out.push(`${v.name} failed ${percent(f.errorRate, 2)} of requests on ${endpoint}.`);
      // QEMU's resident size holds the emulator on top of the guest: it is not what the guest's OOM limit counts.
      const oomComparable = v.provenance.isolation !== "qemu";
      if (oomComparable && f.peakMemoryMb !== null && v.budget.memoryMb !== null && f.peakMemoryMb > 0.9 * v.budget.memoryMb) {
        out.push(`${v.name} peaked at ${num(f.peakMemoryMb)} MiB of its ${v.budget.memoryMb} MiB budget on ${endpoint}: close to the OOM limit.`);
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
    .filter(({ f }) => f !== undefined && f.repetitions > 1 && f.rps.spread > NOISE_SPREAD);
  const moved = a.measured.flatMap((v) => {
    const fastest = fastestReference(v.runs);
    return v.runs.map((r) => ({ v, r, reason: machineFlag(r, fastest).reason })).filter((x) => x.reason !== null).map(({ v, r, reason }) => `${v.name} ${r.endpoint}${settings.repetitions > 1 ? ` rep ${r.repetition + 1}` : ""} (${reason})`);
  });
  if (moved.length > 0) out.push(`The machine moved during ${moved.join(", ")}: those figures may measure the machine, not the server.`);
  if (settings.repetitions === 1) {
    out.push(`One repetition only: back-to-back sessions of one unchanged container on this bench's 2-core VM differed by up to ${percent(DEFAULT_NOISE.rps, 0)} in req/s, so a single run is not evidence; use --repetitions 3 for figures to rely on.`);
  } else if (noisy.length > 0) {
    out.push(`Run-to-run spread above ${percent(NOISE_SPREAD, 0)} on ${noisy.map(({ v, e, f }) => `${v} ${e} (${percent(f?.rps.spread ?? 0, 0)})`).join(", ")}: differences there are not established.`);
  }
  return out;
}

/** Why a difference between two sound cells is not established, or null when it is. */
export function notEstablished(ratio: number, x: Cell, y: Cell): string | null {
  if (x.figures.repetitions < 2 || y.figures.repetitions < 2) return "one repetition gives no spread to judge it by";
  const spread = Math.max(x.figures.rps.spread, y.figures.rps.spread);
  if (spread > NOISE_SPREAD) return `the spread between repetitions (${percent(spread, 0)}) exceeds ${percent(NOISE_SPREAD, 0)}`;
  if (Math.abs(ratio - 1) <= spread) return `the difference is within the spread between repetitions (${percent(spread, 0)})`;
  return null;
}

/**
 * Ratios and rankings on the headline endpoint, from sound cells only (server-bound, whole,
 * comparable); every claim names the runs it rests on, and the others say why there is none.
 */
function headlineConclusions(a: Analysis, headline: string): string[] {
  // An emulated variant gets this sentence in place of any comparison or ranking.
  const out: string[] = a.measured
    .filter((v) => isEmulated(v) && a.cell(v.name, headline) !== undefined)
    .map((v) => `${v.name} on ${headline}: ${EMULATED}: not comparable for speed (QEMU without KVM); its figures stay in the tables, marked.`);
  const base = a.measured.find((v) => v.name === a.baseline);
  const baseCell = base === undefined ? undefined : a.cell(base.name, headline);
  if (base !== undefined && baseCell !== undefined) {
    for (const v of a.measured) {
      if (v.name === base.name) continue;
      const cell = a.cell(v.name, headline);
      if (cell === undefined || isEmulated(v) !== isEmulated(base) || cell.relative.rps === null) continue;
      const unsound = [cell.unsound === null ? null : `${v.name}'s runs were ${cell.unsound}`, baseCell.unsound === null ? null : `${base.name}'s runs were ${baseCell.unsound}`].filter((x) => x !== null);
      if (unsound.length > 0) {
        out.push(`No comparison of ${v.name} with ${base.name} on ${headline}: ${unsound.join(" and ")}, so their req/s do not measure the servers (figures stay in the tables, marked).`);
        continue;
      }
      const cpuShare = v.budget.cpus !== null && base.budget.cpus !== null ? ` with ${percent(v.budget.cpus / base.budget.cpus, 0)} of its CPUs` : "";
      const perCpu = cell.relative.rpsPerCpu === null ? "" : `: ${times(cell.relative.rpsPerCpu)} the req/s per CPU`;
      const doubt = notEstablished(cell.relative.rps, cell, baseCell);
      out.push(
        `On ${headline}, ${v.name} serves ${percent(cell.relative.rps, 0)} of ${base.name}'s throughput (${num(cell.figures.rps.median)} vs ${num(baseCell.figures.rps.median)} req/s; ` +
          `${v.name}: ${cell.basis}, ${base.name}: ${baseCell.basis})${cpuShare}${perCpu}.` +
          (doubt === null ? "" : ` Not established: ${doubt}.`),
      );
    }
  }
  const cells = a.measured.filter((v) => !isEmulated(v)).map((v) => ({ v, c: a.cell(v.name, headline) })).filter((x): x is { v: (typeof a.measured)[number]; c: Cell } => x.c !== undefined);
  const sound = cells.filter(({ c }) => c.unsound === null);
  const left = cells.filter(({ c }) => c.unsound !== null).map(({ v, c }) => `${v.name} (${c.unsound})`);
  if (cells.length === 0) return out;
  if (sound.length === 0) {
    out.push(`No conclusion on ${headline}: no run there was server-bound and whole (${left.join(", ")}); its figures stay in the tables as what this machine showed, not what the servers can do.`);
    return out;
  }
  const leftOut = left.length === 0 ? "" : `; left out: ${left.join(", ")}`;
  const ranked = (metric: "rpsPerCpu" | "requestsPerCpuSecond") =>
    sound
      .map(({ v, c }) => ({ v, c, value: c.efficiency[metric] }))
      .filter((x): x is typeof x & { value: number } => x.value !== null)
      .sort((x, y) => y.value - x.value)
      .map(({ v, c, value }) => `${v.name} ${num(value)} (${c.basis})`);
  const perCpu = ranked("rpsPerCpu");
  if (perCpu.length > 0) out.push(`Req/s per CPU on ${headline}, server-bound runs only, best first: ${perCpu.join(", ")}${leftOut}.`);
  const perUsed = ranked("requestsPerCpuSecond");
  if (perUsed.length > 0) {
    out.push(`Requests per CPU-second actually used on ${headline}, best first: ${perUsed.join(", ")}; a lower figure means more CPU spent per request (workers, GC, throttling), whatever the budget.`);
  }
  return out;
}

const GUEST_NAME = { microvm: "micro-VM", unikernel: "unikernel" } as const;

/** "KVM", "TCG (emulated)" or "an acceleration nobody stated". */
const accelName = (v: VariantResult) => (v.provenance.accel === "tcg" ? "TCG (emulated)" : v.provenance.accel === "kvm" ? "KVM" : "an acceleration nobody stated");

/** The unikernel ÷ micro-VM boot and floor, each with what it rests on. */
function bootAndFloor(uni: VariantResult, micro: VariantResult): string {
  const timed = (v: VariantResult) => (v.boot !== null && v.boot.byMs !== null && v.boot.afterMs === v.boot.byMs ? v.boot.byMs : null);
  const boot = ratio(timed(uni), timed(micro));
  const bootPart =
    boot === null
      ? `no boot ratio (${[uni, micro].filter((v) => timed(v) === null).map((v) => `${v.name}'s boot: ${v.boot?.detail ?? "not recorded"}`).join("; ")})`
      : `boot ${times(boot)} (${bootText(uni.boot)} vs ${bootText(micro.boot)}, QEMU start to first 200; one boot each, so no spread)`;
  const floor = ratio(uni.memoryFloor?.mb ?? null, micro.memoryFloor?.mb ?? null);
  const floorPart =
    floor === null
      ? `no floor ratio (${[uni, micro].filter((v) => v.memoryFloor?.mb == null).map((v) => `${v.name}: ${v.memoryFloor?.source ?? "not recorded"}`).join("; ")})`
      : `memory floor ${times(floor)} (${uni.memoryFloor?.mb} vs ${micro.memoryFloor?.mb} MiB, the stack config's measured floors, not re-measured here)`;
  return `${bootPart}; ${floorPart}`;
}

/** The unikernel ÷ micro-VM req/s and req per CPU-second on one endpoint, from runs sound among peers, with spread. */
function speedOn(endpoint: string, uni: VariantResult, u: Cell, micro: VariantResult, m: Cell): string {
  const unsound = [
    [uni, unsoundAmongPeers(u.figures, uni)],
    [micro, unsoundAmongPeers(m.figures, micro)],
  ].filter((x): x is [VariantResult, string] => x[1] !== null);
  if (unsound.length > 0) {
    return `No unikernel ÷ micro-VM ratio on ${endpoint}: ${unsound.map(([v, why]) => `${v.name}'s runs were ${why}`).join(" and ")}, so their req/s do not measure the guests (figures stay in the ladder).`;
  }
  const rps = u.figures.rps.median / m.figures.rps.median;
  const perCpu = ratio(u.efficiency.requestsPerCpuSecond, m.efficiency.requestsPerCpuSecond);
  const doubt = notEstablished(rps, u, m);
  return (
    `Unikernel ÷ micro-VM on ${endpoint}: req/s ${times(rps)} (${num(u.figures.rps.median)} vs ${num(m.figures.rps.median)}; ${uni.name}: ${u.basis}, ${micro.name}: ${m.basis})` +
    `${perCpu === null ? "" : `, req per CPU-second ${times(perCpu)} (${num(u.efficiency.requestsPerCpuSecond)} vs ${num(m.efficiency.requestsPerCpuSecond)})`}.` +
    (doubt === null ? "" : ` Not established: ${doubt}.`)
  );
}

/**
 * The two VM rungs against each other: unikernel ÷ micro-VM (boot, floor, req/s, req per
 * CPU-second), drawn only when both ran under one known acceleration; otherwise why not. Nothing
 * when the session measured no guest.
 */
export function vmVersusVm(a: Analysis): string[] {
  const guests = a.measured.filter((v) => v.provenance.isolation === "qemu");
  if (guests.length === 0) return [];
  const uni = guests.find((v) => v.provenance.guest === "unikernel");
  const micro = guests.find((v) => v.provenance.guest === "microvm");
  if (uni === undefined || micro === undefined) {
    const unnamed = guests.filter((v) => v.provenance.guest === null).map((v) => v.name);
    const had = guests.filter((v) => v.provenance.guest !== null).map((v) => `the ${GUEST_NAME[v.provenance.guest ?? "microvm"]} (${v.name})`);
    const missing = uni === undefined ? "unikernel" : "micro-VM";
    return [
      `No unikernel ÷ micro-VM comparison: this session measured ${had.length === 0 ? "no guest of a stated kind" : had.join(" and ")} but no ${missing}` +
        `${unnamed.length === 0 ? "" : `; ${unnamed.join(", ")} ran under QEMU without saying which guest it is (isolation=microvm|unikernel)`}.`,
    ];
  }
  if (uni.provenance.accel === null || micro.provenance.accel === null || uni.provenance.accel !== micro.provenance.accel) {
    return [
      `No unikernel ÷ micro-VM comparison: ${uni.name} ran under ${accelName(uni)} and ${micro.name} under ${accelName(micro)}; ` +
        "ratios are drawn only between guests under one known acceleration (otherwise they measure the emulator, not the guests).",
    ];
  }
  const under = uni.provenance.accel === "tcg" ? "both emulated (TCG), so the ratios compare the two guests with each other, never with native rows" : "both under KVM";
  const out = [`Unikernel (${uni.name}) ÷ micro-VM (${micro.name}), ${under}: ${bootAndFloor(uni, micro)}.`];
  for (const endpoint of LADDER_ENDPOINTS) {
    const u = a.cell(uni.name, endpoint);
    const m = a.cell(micro.name, endpoint);
    if (u !== undefined && m !== undefined) out.push(speedOn(endpoint, uni, u, micro, m));
  }
  return out;
}
