/**
 * Start to the first 200 on /health, from each rung's own record: a guest's `boot.json`, which the
 * QEMU runner writes beside its pid file, or a container's Docker health log (pure, plus a thin reader).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { Accel, ACCELS, BootTime } from "../schema";

/** The runner's record of one boot: QEMU start to the first 200 on /health. */
const bootFileSchema = z.looseObject({
  bootMs: z.number().nonnegative(),
  accel: z.enum(ACCELS),
  startedAt: z.string(),
});

/** A guest's boot.json: beside QEMU's pid file. */
export function bootFileOf(pidFile: string): string {
  return path.join(path.dirname(pidFile), "boot.json");
}

/** A guest's boot and the acceleration its runner used, from boot.json's text (null: no file). */
export function guestBoot(text: string | null, file: string): { boot: BootTime; accel: Accel | null } {
  const unknown = (detail: string) => ({ boot: { afterMs: null, byMs: null, source: null, detail }, accel: null });
  if (text === null) return unknown(`no ${file}: the QEMU runner that started this guest wrote no boot record`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return unknown(`${file} is not JSON`);
  }
  const parsed = bootFileSchema.safeParse(raw);
  if (!parsed.success) return unknown(`${file} lacks ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")} (expected {"bootMs", "accel", "startedAt"})`);
  const { bootMs, accel, startedAt } = parsed.data;
  return { boot: { afterMs: bootMs, byMs: bootMs, source: "boot.json", detail: `QEMU started ${startedAt}; the runner timed its first 200 on /health (${file})` }, accel };
}

/** Reads a guest's boot.json (thin: the rules are in guestBoot). */
export function readGuestBoot(pidFile: string): ReturnType<typeof guestBoot> {
  const file = bootFileOf(pidFile);
  let text: string | null = null;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    text = null;
  }
  return guestBoot(text, file);
}

/** Docker keeps only the last few probe results in State.Health.Log (moby daemon/health.go, maxLogEntries). */
export const DOCKER_HEALTH_LOG_ENTRIES = 5;
/** Docker's probe interval when the health check leaves it at 0 (moby: defaultProbeInterval). */
export const DOCKER_DEFAULT_PROBE_INTERVAL_NS = 30e9;

/** The parts of `docker inspect` a container's boot is read from. */
export interface ContainerBootView {
  /** State.StartedAt (RFC 3339). */
  startedAt: string | null;
  /** Config.Healthcheck: null when the container has none (or `NONE`); intervals in ns, 0 = Docker's default. */
  healthcheck: { intervalNs: number; startIntervalNs: number } | null;
  /** State.Health.Log, oldest first. */
  log: readonly { start: string; end: string; exitCode: number }[];
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * When a container first answered /health, as Docker recorded it: after the start of the last
 * failing probe (or the start itself) and by the end of the first passing one. Docker probes every
 * `interval`, so that window is the figure's resolution; the log holds only the last
 * DOCKER_HEALTH_LOG_ENTRIES probes, so once the first passing one has scrolled out it is unknown.
 */
export function containerBoot(view: ContainerBootView): BootTime {
  const unknown = (detail: string): BootTime => ({ afterMs: null, byMs: null, source: null, detail });
  const started = view.startedAt === null ? NaN : Date.parse(view.startedAt);
  if (!Number.isFinite(started)) return unknown("Docker reports no start time for this container");
  if (view.healthcheck === null) return unknown("the container has no Docker health check: nothing recorded when it first answered");
  const intervalMs = (view.healthcheck.intervalNs || DOCKER_DEFAULT_PROBE_INTERVAL_NS) / 1e6;
  // Docker probes every start interval during the start period when one is set, so probes may come that close together.
  const spacingMs = view.healthcheck.startIntervalNs > 0 ? Math.min(intervalMs, view.healthcheck.startIntervalNs / 1e6) : intervalMs;
  // Probes of an earlier start (a restart keeps the log) say nothing of this one.
  const probes = view.log
    .map((p) => ({ start: Date.parse(p.start) - started, end: Date.parse(p.end) - started, passed: p.exitCode === 0 }))
    .filter((p) => Number.isFinite(p.start) && Number.isFinite(p.end) && p.start >= 0);
  const first = probes.findIndex((p) => p.passed);
  if (first < 0) return unknown(probes.length === 0 ? "no health probe has run since the container started" : "no health probe has passed since the container started");
  // A full log whose oldest probe began later than one probe spacing after the start has lost earlier probes.
  if (view.log.length >= DOCKER_HEALTH_LOG_ENTRIES && probes[0].start >= 1.5 * spacingMs) {
    return unknown(`Docker keeps only its last ${DOCKER_HEALTH_LOG_ENTRIES} health probes and the first passing one has scrolled out (oldest kept: ${seconds(probes[0].start)} after the start)`);
  }
  const afterMs = first === 0 ? 0 : probes[first - 1].start;
  return {
    afterMs,
    byMs: probes[first].end,
    source: "health-log",
    detail: `Docker health log: the first passing probe ended ${seconds(probes[first].end)} after State.StartedAt; probes every ${seconds(spacingMs)}, so the app first answered within that window`,
  };
}
