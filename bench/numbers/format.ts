/** Number and duration formatting shared by the report, the tables and progress lines (pure). */

export const DASH = "—";

/** Decimals by magnitude: 1253.85 → "1253.9", 12.34 → "12.3", 1.234 → "1.23". */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A ratio to the baseline as a signed change: 0.75 → "-25 %", 1.5 → "+50 %". */
export function change(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return DASH;
  const pct = Math.round((ratio - 1) * 100);
  return pct === 0 ? "±0 %" : `${pct > 0 ? "+" : ""}${pct} %`;
}

/** A multiplier: 1.5 → "×1.50". */
export function times(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? DASH : `×${ratio.toFixed(2)}`;
}

export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}

/** Text bar of `width` cells scaled to `max`. */
export function bar(value: number, max: number, width = 28): string {
  if (max <= 0 || value <= 0) return "";
  return "█".repeat(Math.max(1, Math.round((value / max) * width)));
}

export function budgetText(cpus: number | null, memoryMb: number | null): string {
  const parts = [cpus === null ? null : `${cpus} CPU${cpus === 1 ? "" : "s"}`, memoryMb === null ? null : `${Number(memoryMb.toFixed(1))} MiB`];
  const known = parts.filter((p): p is string => p !== null);
  return known.length === 0 ? "unknown" : known.join(", ");
}

/** "1 h 02 min", "3 min 05 s", "42 s". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s} s`;
}
