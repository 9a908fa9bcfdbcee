/** Milliseconds per unit of the duration strings the stack config accepts (Prometheus and Go flavours). */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Parses a single-unit duration such as `500ms`, `10s` or `15d` (the forms the config schema allows). */
export function durationMs(duration: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(duration);
  if (match === null) {
    throw new Error(`"${duration}" is not a duration such as 10s, 5m or 15d`);
  }
  return Number(match[1]) * UNIT_MS[match[2]];
}

/** Formats milliseconds as the largest whole unit both Prometheus and Grafana understand. */
export function formatDurationMs(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** The longer of two durations, in the form of `formatDurationMs`. */
export function longerDuration(a: string, b: string): string {
  return formatDurationMs(Math.max(durationMs(a), durationMs(b)));
}
