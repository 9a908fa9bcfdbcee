import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Records one finished request: its HTTP status and how long the handler took, in seconds. */
export type RequestRecorder = (status: number, seconds: number) => void;

/** Latency buckets (seconds) spanning /api/light (sub-ms) to /api/slow (~1 s). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5];

/**
 * This process's Prometheus metrics: requests by route and status, a latency histogram by route,
 * the process's CPU and memory (prom-client's default metrics) and an info gauge.
 */
export class RequestMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"route" | "status">;
  private readonly duration: Histogram<"route">;

  constructor(variant: string, workers: number) {
    this.registry.setDefaultLabels({ variant });
    this.requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by route and status code",
      labelNames: ["route", "status"],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from request to response handed to the socket, by route",
      labelNames: ["route"],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    const info = new Gauge({
      name: "webapi_info",
      help: "Always 1 per worker; its labels describe the running API (summed across workers)",
      labelNames: ["node_version", "workers"],
      registers: [this.registry],
    });
    info.labels(process.version, String(workers)).set(1);
    collectDefaultMetrics({ register: this.registry });
  }

  /** A recorder bound to one route label; label children are resolved once, not per request. */
  forRoute(route: string): RequestRecorder {
    const latency = this.duration.labels(route);
    const byStatus = new Map<number, Counter.Internal>();
    return (status, seconds) => {
      let counter = byStatus.get(status);
      if (counter === undefined) {
        counter = this.requests.labels(route, String(status));
        byStatus.set(status, counter);
      }
      counter.inc();
      latency.observe(seconds);
    };
  }
}
