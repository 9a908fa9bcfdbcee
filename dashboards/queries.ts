/**
 * PromQL behind every dashboard panel, in one place. `$variant` and `$__rate_interval` are Grafana
 * variables: Grafana replaces them before the query reaches Prometheus (see `expandGrafanaVariables`).
 */

/** Metric names the web API exports on `/metrics` (images/src). */
export const APP_METRICS = {
  requests: "http_requests_total",
  duration: "http_request_duration_seconds",
  cpuSeconds: "process_cpu_seconds_total",
  residentMemory: "process_resident_memory_bytes",
} as const;

/** cAdvisor metrics the dashboard reads; all of them survive the lab's `--disable_metrics` list. */
export const CADVISOR_METRICS = {
  cpuSeconds: "container_cpu_usage_seconds_total",
  cpuQuota: "container_spec_cpu_quota",
  cpuPeriod: "container_spec_cpu_period",
  workingSet: "container_memory_working_set_bytes",
  memoryLimit: "container_spec_memory_limit_bytes",
  receiveBytes: "container_network_receive_bytes_total",
  transmitBytes: "container_network_transmit_bytes_total",
  oomEvents: "container_oom_events_total",
} as const;

const selected = `variant=~"$variant"`;
/** Every web API series carries `variant` and `runtime` (scrape target labels; cAdvisor's by relabelling). */
const window = "[$__rate_interval]";

function perVariantRate(metric: string, matchers = selected): string {
  return `sum by (variant, runtime) (rate(${metric}{${matchers}}${window}))`;
}

/** Requests per second answered by each variant (the scrapes of /metrics excluded). */
export const requestRate = perVariantRate(APP_METRICS.requests, `${selected}, route!="/metrics"`);

/**
 * Share of requests answered with a 5xx. `or … * 0` turns "no 5xx series yet" into 0 rather than
 * an empty panel, so a healthy variant shows 0 % instead of "No data".
 */
export const errorRatio =
  `(${perVariantRate(APP_METRICS.requests, `${selected}, route!="/metrics", status=~"5.."`)}` +
  ` or ${requestRate} * 0) / ${requestRate}`;

/** Latency quantile per variant from the app's histogram. */
export function latencyQuantile(quantile: number): string {
  return (
    `histogram_quantile(${quantile}, sum by (variant, runtime, le) ` +
    `(rate(${APP_METRICS.duration}_bucket{${selected}, route!="/metrics"}${window})))`
  );
}

export const LATENCY_QUANTILES = [0.5, 0.95, 0.99] as const;

/** CPU used by the app's processes as the app itself reports it (no cAdvisor needed). */
export const processCpuCores = perVariantRate(APP_METRICS.cpuSeconds);

/** Resident memory of the app's processes as the app reports it. */
export const processResidentMemory = `sum by (variant, runtime) (${APP_METRICS.residentMemory}{${selected}})`;

/** CPU cores each variant's container uses (cAdvisor). */
export const containerCpuCores = perVariantRate(CADVISOR_METRICS.cpuSeconds);

/** The CPU limit in cores: CFS quota over period, as Docker enforces it. */
const containerCpuLimitCores =
  `(max by (variant, runtime) (${CADVISOR_METRICS.cpuQuota}{${selected}}) / max by (variant, runtime) (${CADVISOR_METRICS.cpuPeriod}{${selected}}))`;

export const containerCpuShareOfLimit = `${containerCpuCores} / ${containerCpuLimitCores}`;

export const containerWorkingSet = `max by (variant, runtime) (${CADVISOR_METRICS.workingSet}{${selected}})`;

export const containerMemoryShareOfLimit =
  `${containerWorkingSet} / max by (variant, runtime) (${CADVISOR_METRICS.memoryLimit}{${selected}})`;

export const networkReceive = perVariantRate(CADVISOR_METRICS.receiveBytes);
export const networkTransmit = perVariantRate(CADVISOR_METRICS.transmitBytes);

/** Out-of-memory kills over the dashboard's time range (why cAdvisor keeps `oom_event` and /dev/kmsg). */
export const oomKills = `sum by (variant, runtime) (increase(${CADVISOR_METRICS.oomEvents}{${selected}}[$__range]))`;

/**
 * CPU cores the monitoring containers themselves use (cAdvisor measures itself, Prometheus and
 * Grafana): what watching the variants costs the host they share.
 */
export function monitoringCpuCores(containerNamePrefix: string): string {
  return `sum by (name) (rate(${CADVISOR_METRICS.cpuSeconds}{name=~"${containerNamePrefix}.+"}${window}))`;
}

/** Swarm: tasks of each variant answering scrapes, per node (the `node` label comes from the swarm discovery). */
export const tasksPerNode = `count by (variant, node) (up{job="webapi", ${selected}} == 1)`;

/** Swarm: CPU cores the selected variants' containers use on each node. */
export const nodeCpuCores = `sum by (node) (rate(${CADVISOR_METRICS.cpuSeconds}{${selected}}${window}))`;

/** Requests per second per CPU core actually used: the efficiency the lab compares. */
export const requestsPerCore = `${requestRate} / ${containerCpuCores}`;

/** Every metric name the web API must export for the app-metric panels to show data. */
export const APP_METRIC_NAMES: readonly string[] = [
  APP_METRICS.requests,
  `${APP_METRICS.duration}_bucket`,
  APP_METRICS.cpuSeconds,
  APP_METRICS.residentMemory,
];

/** Grafana variables the dashboard's queries use, with what Grafana substitutes for them. */
export interface GrafanaVariableValues {
  /** Variants selected in the `variant` template variable. */
  variants: readonly string[];
  /** `$__rate_interval`, e.g. `1m`. */
  rateInterval: string;
  /** `$__range`, the dashboard's time range, e.g. `5m`. */
  range: string;
}

/**
 * Replaces the Grafana variables in a panel expression the way Grafana's Prometheus datasource does
 * (a multi-value variable inside a regex matcher becomes `(a|b|c)`), so the expression can be sent
 * to Prometheus directly.
 */
export function expandGrafanaVariables(expr: string, values: GrafanaVariableValues): string {
  // Variant names are lower-case letters, digits and dashes (config schema): nothing to escape.
  const variants = `(${values.variants.join("|")})`;
  return expr
    .replace(/\$__rate_interval/g, values.rateInterval)
    .replace(/\$__range/g, values.range)
    .replace(/\$\{variant(:regex)?\}|\$variant\b/g, variants);
}
