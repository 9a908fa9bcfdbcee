/// <reference path="./prom-client-lib.d.ts" />
import type { Metric, MetricObjectWithValues, MetricValue, MetricValueWithName } from "prom-client";
import Registry = require("prom-client/lib/registry");
import * as v8 from "v8";
import { RUNTIME } from "./runtime";

/** Records one finished request: its HTTP status and how long the handler took, in seconds. */
export type RequestRecorder = (status: number, seconds: number) => void;

/** Latency buckets (seconds) spanning /api/light (sub-ms) to /api/slow (~1 s). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5];

/** Plain counters of one route; the request path only bumps numbers. */
interface RouteStats {
  route: string;
  byStatus: Map<number, number>;
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

type Sample = MetricValueWithName<string>;

/**
 * A metric in the shape prom-client's Registry renders and AggregatorRegistry combines across
 * workers: `get()` → name, help, type, values, aggregator ("sum" adds the workers up).
 */
function collector(name: string, help: string, type: "counter" | "gauge" | "histogram", values: () => Sample[], aggregator = "sum"): Metric {
  const get = async () => ({ name, help, type, aggregator, values: values() }) as unknown as MetricObjectWithValues<MetricValue<string>>;
  return { name, help, type, aggregator, get } as unknown as Metric;
}

const single = (value: number): Sample[] => [{ value, labels: {} }];

/**
 * The resident set, or no sample where the platform cannot say: a unikernel has no /proc, so
 * libuv's read fails there, and the guest's memory is measured from its QEMU process instead.
 */
function residentMemorySamples(): Sample[] {
  try {
    return single(process.memoryUsage.rss());
  } catch {
    return [];
  }
}

/**
 * This process's Prometheus metrics: requests by route and status, a latency histogram by route,
 * the process's CPU and memory, and an info metric.
 *
 * prom-client's Counter/Histogram hash and validate labels on every observation (~µs each, a
 * tenth of a light request), so request figures are plain numbers turned into samples only when
 * scraped; prom-client's Registry renders them and its AggregatorRegistry sums the workers.
 */
export class RequestMetrics {
  readonly registry = new Registry();
  private readonly routes: RouteStats[] = [];

  constructor(variant: string, workers: number) {
    this.registry.setDefaultLabels({ variant });
    const metrics = [
      collector("http_requests_total", "HTTP requests answered, by route and status code", "counter", () =>
        this.routes.flatMap((r) => [...r.byStatus].map(([status, value]) => ({ value, labels: { route: r.route, status: String(status) } }))),
      ),
      collector("http_request_duration_seconds", "Time from request to answer ready, by route", "histogram", () =>
        this.routes.flatMap(histogramSamples),
      ),
      collector("webapi_info", "1 per worker process; labels describe the running API", "gauge", () => [
        { value: 1, labels: { runtime: RUNTIME.name, runtime_version: RUNTIME.version, workers: String(workers) } },
      ]),
      collector("process_cpu_user_seconds_total", "User CPU time spent, in seconds", "counter", () => single(process.cpuUsage().user / 1e6)),
      collector("process_cpu_system_seconds_total", "System CPU time spent, in seconds", "counter", () => single(process.cpuUsage().system / 1e6)),
      collector("process_cpu_seconds_total", "User and system CPU time spent, in seconds", "counter", () => {
        const { user, system } = process.cpuUsage();
        return single((user + system) / 1e6);
      }),
      collector("process_resident_memory_bytes", "Resident memory size, in bytes", "gauge", residentMemorySamples),
      // From V8 itself: process.memoryUsage() would fail wherever the resident size cannot be read.
      collector("nodejs_heap_size_used_bytes", "V8 heap in use, in bytes", "gauge", () => single(v8.getHeapStatistics().used_heap_size)),
      collector("nodejs_heap_size_total_bytes", "V8 heap reserved, in bytes", "gauge", () => single(v8.getHeapStatistics().total_heap_size)),
      collector("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", "gauge", () => single(START_TIME_SECONDS), "min"),
    ];
    for (const metric of metrics) this.registry.registerMetric(metric);
  }

  /** A recorder bound to one route label. */
  forRoute(route: string): RequestRecorder {
    const stats: RouteStats = { route, byStatus: new Map(), buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
    this.routes.push(stats);
    return (status, seconds) => {
      stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
      let bucket = 0;
      while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
      stats.buckets[bucket]++;
      stats.sum += seconds;
      stats.count++;
    };
  }
}

const START_TIME_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

function histogramSamples(stats: RouteStats): Sample[] {
  if (stats.count === 0) return [];
  const samples: Sample[] = [];
  let cumulative = 0;
  stats.buckets.forEach((count, i) => {
    cumulative += count;
    const le = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : "+Inf";
    samples.push({ metricName: "http_request_duration_seconds_bucket", value: cumulative, labels: { le, route: stats.route } });
  });
  samples.push({ metricName: "http_request_duration_seconds_sum", value: stats.sum, labels: { route: stats.route } });
  samples.push({ metricName: "http_request_duration_seconds_count", value: stats.count, labels: { route: stats.route } });
  return samples;
}
