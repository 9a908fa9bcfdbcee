import { collectDefaultMetrics, Gauge, Metric, MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from "prom-client";

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

/**
 * A collector in the shape prom-client's Registry renders and AggregatorRegistry sums across
 * workers (`get()` → name, help, type, values, aggregator).
 */
function collector<T extends MetricValue<string>>(name: string, help: string, type: "counter" | "histogram", values: () => T[]): Metric {
  const get = async (): Promise<MetricObjectWithValues<T>> =>
    ({ name, help, type, aggregator: "sum", values: values() }) as unknown as MetricObjectWithValues<T>;
  return { name, help, type, aggregator: "sum", get } as unknown as Metric;
}

/**
 * This process's Prometheus metrics: requests by route and status, a latency histogram by route,
 * the process's CPU and memory (prom-client's default metrics) and an info gauge.
 *
 * prom-client's own Counter/Histogram hash and validate labels on every observation (~µs each,
 * a tenth of a light request), so request figures are kept in plain numbers and turned into
 * samples only when scraped.
 */
export class RequestMetrics {
  readonly registry = new Registry();
  private readonly routes: RouteStats[] = [];

  constructor(variant: string, workers: number) {
    this.registry.setDefaultLabels({ variant });
    this.registry.registerMetric(
      collector("http_requests_total", "HTTP requests answered, by route and status code", "counter", () =>
        this.routes.flatMap((r) => [...r.byStatus].map(([status, value]) => ({ value, labels: { route: r.route, status } }))),
      ),
    );
    this.registry.registerMetric(
      collector("http_request_duration_seconds", "Time from request to response handed to the socket, by route", "histogram", () =>
        this.routes.flatMap((r) => histogramSamples(r)),
      ),
    );
    const info = new Gauge({
      name: "webapi_info",
      help: "1 per worker process; labels describe the running API (summed across workers)",
      labelNames: ["node_version", "workers"],
      registers: [this.registry],
    });
    info.labels(process.version, String(workers)).set(1);
    collectDefaultMetrics({ register: this.registry });
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

function histogramSamples(stats: RouteStats): MetricValueWithName<string>[] {
  if (stats.count === 0) return [];
  const samples: MetricValueWithName<string>[] = [];
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
