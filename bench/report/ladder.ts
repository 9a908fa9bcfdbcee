/**
 * The ladder: one row per rung the session measured (container budgets × runtimes, micro-VM,
 * unikernel), the figures a reader of the original report looks for, in one table per acceleration
 * so that no row is set beside one it must not be compared with (pure).
 */
import { Analysis, Cell, isEmulated } from "../numbers/analysis";
import { DASH, num, percent } from "../numbers/format";
import { BootTime, VariantResult } from "../schema";

/** The endpoints the ladder shows: the CPU-bound small answer and the 500 KiB one. */
export const LADDER_ENDPOINTS = ["/api/light", "/api/heavy"] as const;

/** Groups whose rows may be compared: native code (containers, KVM guests), emulated (TCG), or QEMU with an unknown acceleration. */
export const ACCEL_GROUPS = ["native", "tcg", "unknown"] as const;
export type AccelGroup = (typeof ACCEL_GROUPS)[number];

const GROUP_TITLE: Record<AccelGroup, string> = {
  native: "Native: containers and KVM guests (the CPU runs the code itself)",
  tcg: "Emulated: QEMU's TCG software emulation (no KVM) — many times slower than native, compared only with each other",
  unknown: "QEMU with an acceleration nobody stated — compared with nothing",
};

/** Which rows a variant may be compared with. */
export function accelGroup(v: Pick<VariantResult, "provenance">): AccelGroup {
  if (v.provenance.isolation !== "qemu") return "native";
  if (isEmulated(v)) return "tcg";
  return v.provenance.accel === "kvm" ? "native" : "unknown";
}

/** The rung's isolation as the ladder names it. */
export function isolationText(v: Pick<VariantResult, "provenance">): string {
  if (v.provenance.isolation === "container") return "container";
  if (v.provenance.isolation === null) return "unknown (no container or QEMU process found)";
  if (v.provenance.guest === "microvm") return "micro-VM (Linux guest, QEMU)";
  if (v.provenance.guest === "unikernel") return "unikernel (Unikraft, QEMU)";
  return "QEMU guest (kind not stated)";
}

function accelText(v: Pick<VariantResult, "provenance">): string {
  if (v.provenance.isolation !== "qemu") return "native";
  if (v.provenance.accel === "tcg") return "TCG (emulated)";
  return v.provenance.accel === "kvm" ? "KVM" : "unknown";
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "9.7 s" timed directly, "0.0–10.2 s" within a probe window, "—" when not known. */
export function bootText(boot: BootTime | null): string {
  if (boot === null || boot.afterMs === null || boot.byMs === null) return DASH;
  return boot.afterMs === boot.byMs ? seconds(boot.byMs) : `${(boot.afterMs / 1000).toFixed(1)}–${seconds(boot.byMs)}`;
}

/** The highest memory the server used on any endpoint (a QEMU guest: the whole QEMU process). */
export function peakUnderLoad(a: Analysis, v: VariantResult): number | null {
  const peaks = a.endpoints.map((e) => a.cell(v.name, e)?.figures.peakMemoryMb ?? null).filter((p): p is number => p !== null);
  return peaks.length === 0 ? null : Math.max(...peaks);
}

function rpsText(c: Cell | undefined): string {
  if (c === undefined) return "not measured";
  const f = c.figures;
  return f.repetitions > 1 ? `${num(f.rps.median)} (spread ${percent(f.rps.spread, 0)})` : `${num(f.rps.median)} (1 run)`;
}

function row(a: Analysis, v: VariantResult): string[] {
  const cells = LADDER_ENDPOINTS.map((e) => a.cell(v.name, e));
  const floor = v.memoryFloor?.mb ?? null;
  const peak = peakUnderLoad(a, v);
  return [
    v.runtime === null ? `**${v.name}**` : `**${v.name}** (${v.runtime})`,
    isolationText(v),
    accelText(v),
    v.budget.cpus === null ? DASH : String(v.budget.cpus),
    v.budget.memoryMb === null ? DASH : `${Number(v.budget.memoryMb.toFixed(1))} MiB`,
    bootText(v.boot),
    floor === null ? DASH : `${floor} MiB`,
    peak === null ? DASH : `${num(peak)} MiB`,
    ...cells.flatMap((c) => [rpsText(c), c === undefined ? DASH : num(c.efficiency.requestsPerCpuSecond), c === undefined ? DASH : `${num(c.figures.latencyMs.p99)} ms`]),
  ];
}

const tableLine = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;

/** Why a row's boot or floor shows no figure, and where the figures shown come from. */
function notes(rows: readonly VariantResult[]): string[] {
  const out: string[] = [];
  for (const v of rows) {
    if (v.boot === null) out.push(`${v.name}: boot not recorded (a results file written before the bench read boot times)`);
    else if (v.boot.byMs === null) out.push(`${v.name}: boot ${DASH} because ${v.boot.detail}`);
    else out.push(`${v.name}: boot from ${v.boot.detail}`);
    if (v.memoryFloor === null) out.push(`${v.name}: memory floor not recorded (an older results file)`);
    else if (v.memoryFloor.mb === null) out.push(`${v.name}: memory floor ${DASH} because ${v.memoryFloor.source}`);
  }
  const sources = [...new Set(rows.flatMap((v) => (v.memoryFloor?.mb == null ? [] : [v.memoryFloor.source])))];
  return [...out, ...sources.map((s) => `memory floor: ${s}`)];
}

/** The report's ladder section: one table per acceleration group, then where each figure comes from. */
export function ladderSection(a: Analysis, chart?: string): string {
  const head = [
    "Rung", "Isolation", "Acceleration", "CPUs", "Memory", "Boot to first 200", "Memory floor", "Peak memory under load",
    ...LADDER_ENDPOINTS.flatMap((e) => [`\`${e}\` req/s`, `\`${e}\` req per CPU-s`, `\`${e}\` p99`]),
  ];
  const out = [
    "## The ladder",
    "",
    "One row per rung this session measured. Rows are compared only within one table: a table holds one acceleration, " +
      "and an emulated guest's speed says nothing of a native one.",
  ];
  if (chart) out.push("", `![Requests per CPU-second per rung](${chart})`);
  for (const group of ACCEL_GROUPS) {
    const rows = a.measured.filter((v) => accelGroup(v) === group);
    if (rows.length === 0) continue;
    out.push("", `### ${GROUP_TITLE[group]}`, "", tableLine(head), tableLine(head.map(() => "---")), ...rows.map((v) => tableLine(row(a, v))));
  }
  out.push(
    "",
    "Boot to first 200: a guest's from its QEMU runner's boot.json (QEMU start to the first 200 on /health, timed by polling); " +
      "a container's from Docker's own record (State.StartedAt to the end of the first passing probe in State.Health.Log), " +
      "a window as wide as the probe interval, shown as from–to. Memory floor: the stack config's, measured as its source says, not in this session. " +
      "Peak memory under load: the highest sample over the session's runs (container: usage minus inactive page cache; QEMU guest: the QEMU process's resident set, the emulator included). " +
      "req/s: successful responses per second, median over repetitions; req per CPU-s: successful requests per CPU-second the server used; p99: median of the repetitions' p99.",
    "",
    ...notes(a.measured).map((n) => `- ${n}`),
  );
  return out.join("\n");
}
