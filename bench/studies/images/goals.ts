/**
 * The issue's goals for the images study, checked against measured figures (pure: numbers in,
 * rows out). Throughput figures come from the bench CLI's own analysis of its results.json.
 */
import { Analysis } from "../../numbers/analysis";
import { median } from "../../numbers/stats";

/** Names of the servers measured at one CPU (bench variant names). */
export const SERVERS = {
  node: "node",
  bun: "bun",
  bareNode: "bare-node",
  bareBun: "bare-bun",
  fastapi: "fastapi",
} as const;

export const SERVER_LABELS: Record<string, string> = {
  [SERVERS.node]: "web API on Node (node:http + cluster, standard image)",
  [SERVERS.bun]: "web API on Bun (Bun.serve, standard-bun image)",
  [SERVERS.bareNode]: "bare node:http (reference)",
  [SERVERS.bareBun]: "bare Bun.serve (reference)",
  [SERVERS.fastapi]: "FastAPI + Uvicorn, uvloop, httptools, request metrics (reference)",
};

export interface ThroughputTarget {
  route: string;
  server: string;
  reference: string;
  /** The server's median req/s must be at least this multiple of the reference's. */
  min: number;
}

export const THROUGHPUT_TARGETS: readonly ThroughputTarget[] = [
  { route: "/api/light", server: SERVERS.node, reference: SERVERS.bareNode, min: 0.9 },
  { route: "/api/light", server: SERVERS.node, reference: SERVERS.fastapi, min: 1.4 },
  { route: "/api/heavy", server: SERVERS.node, reference: SERVERS.fastapi, min: 1.2 },
  { route: "/api/light", server: SERVERS.bun, reference: SERVERS.bareBun, min: 0.8 },
  { route: "/api/light", server: SERVERS.bun, reference: SERVERS.fastapi, min: 3 },
  { route: "/api/heavy", server: SERVERS.bun, reference: SERVERS.fastapi, min: 1.2 },
];

/** One line of the verdict: what was compared, the figure, the target and whether it was met (null: not measured). */
export interface Check {
  label: string;
  value: string;
  target: string;
  met: boolean | null;
}

/** Median successful req/s of a server on a route, null when it was not measured. */
function medianRps(analysis: Analysis, server: string, route: string): number | null {
  return analysis.cell(server, route)?.figures.rps.median ?? null;
}

/** Requests per CPU-second the server used on a route (steadier than req/s on a shared machine). */
function perCpuSecond(analysis: Analysis, server: string, route: string): number | null {
  return analysis.cell(server, route)?.efficiency.requestsPerCpuSecond ?? null;
}

const divide = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

export function throughputChecks(analysis: Analysis, targets: readonly ThroughputTarget[] = THROUGHPUT_TARGETS): Check[] {
  return targets.map(({ route, server, reference, min }) => {
    const ratio = divide(medianRps(analysis, server, route), medianRps(analysis, reference, route));
    const perCpu = divide(perCpuSecond(analysis, server, route), perCpuSecond(analysis, reference, route));
    return {
      label: `${route} ${server} ÷ ${reference}`,
      value: ratio === null ? "not measured" : `${ratio.toFixed(2)}x (per CPU-second ${perCpu === null ? "-" : `${perCpu.toFixed(2)}x`})`,
      target: `≥ ${min}x`,
      met: ratio === null ? null : ratio >= min,
    };
  });
}

/** What the minimal image of one runtime did: start-ups, then 10 s of /api/light and /api/heavy at once. */
export interface MinimalFigures {
  runtime: string;
  /** `docker start` → first 200 on /health, one per start. */
  startupMs: number[];
  /** Highest working set (usage minus inactive page cache, as `docker stats`) during the load. */
  peakWorkingSetMib: number;
  /** Connection errors, timeouts and statuses ≥ 400 over both routes. */
  errors: number;
  oomKilled: boolean;
  lightRps: number;
  heavyRps: number;
  /** Requests of both routes per CPU-second the container used. */
  requestsPerCpuSecond: number | null;
}

export const MINIMAL_LIMITS = { peakWorkingSetMib: 64, startupMs: 500 } as const;

export function minimalChecks(m: MinimalFigures): Check[] {
  const startup = median(m.startupMs);
  return [
    {
      label: `minimal ${m.runtime}: peak working set under load`,
      value: `${m.peakWorkingSetMib.toFixed(1)} MiB`,
      target: `≤ ${MINIMAL_LIMITS.peakWorkingSetMib} MiB`,
      met: m.peakWorkingSetMib <= MINIMAL_LIMITS.peakWorkingSetMib,
    },
    { label: `minimal ${m.runtime}: errors under load`, value: String(m.errors), target: "0", met: m.errors === 0 },
    { label: `minimal ${m.runtime}: OOM killed`, value: m.oomKilled ? "yes" : "no", target: "no", met: !m.oomKilled },
    {
      label: `minimal ${m.runtime}: docker start → first 200 (median of ${m.startupMs.length})`,
      value: `${startup.toFixed(0)} ms [${m.startupMs.map((ms) => ms.toFixed(0)).join(", ")}]`,
      target: `≤ ${MINIMAL_LIMITS.startupMs} ms`,
      met: startup <= MINIMAL_LIMITS.startupMs,
    },
  ];
}

const VERDICT = (met: boolean | null) => (met === null ? "?" : met ? "met" : "MISSED");

/** Fixed-width text table: one row per server and route, then one per check. */
export function renderSummary(analysis: Analysis, minimal: readonly MinimalFigures[]): string {
  const fmt = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n.toFixed(0));
  const rows: [string, string][] = [];
  for (const route of analysis.endpoints) {
    for (const variant of analysis.measured) {
      const cell = analysis.cell(variant.name, route);
      if (cell === undefined) continue;
      const runs = variant.runs.filter((r) => r.endpoint === route).map((r) => fmt((r.responses - r.errors.non2xx) / r.durationSeconds));
      rows.push([
        `${route} ${variant.name}`,
        `${fmt(cell.figures.rps.median)} req/s [${runs.join(", ")}]; ${fmt(cell.efficiency.requestsPerCpuSecond)} req/CPU-s; ` +
          `p99 ${cell.figures.latencyMs.p99.toFixed(1)} ms; errors ${(cell.figures.errorRate * 100).toFixed(2)} %`,
      ]);
    }
  }
  for (const m of minimal) {
    rows.push([
      `minimal ${m.runtime} (0.5 CPU, 128 MB), light + heavy at once`,
      `${fmt(m.lightRps)} + ${fmt(m.heavyRps)} req/s; ${fmt(m.requestsPerCpuSecond)} req/CPU-s`,
    ]);
  }
  const checks = [...throughputChecks(analysis), ...minimal.flatMap(minimalChecks)];
  for (const check of checks) rows.push([check.label, `${check.value} (target ${check.target}) ${VERDICT(check.met)}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}
