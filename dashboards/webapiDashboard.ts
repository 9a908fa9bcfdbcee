import * as bargauge from "@grafana/grafana-foundation-sdk/bargauge";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { LabConfig } from "../model/config";
import { durationMs, formatDurationMs } from "../model/durations";
import * as q from "./queries";
import { PROMETHEUS_DATASOURCE, WEBAPI_DASHBOARD_TITLE, WEBAPI_DASHBOARD_UID, monitoringContainerPrefix } from "../model/monitoring/services";

interface QuerySpec {
  expr: string;
  legend: string;
}

interface PanelSpec {
  kind: "timeseries" | "stat" | "bargauge";
  title: string;
  description: string;
  unit: string;
  queries: QuerySpec[];
  /** Grid width out of 24. */
  span: number;
  /** Panels fed by cAdvisor get a minimum interval, so `$__rate_interval` spans a whole housekeeping cycle. */
  fromCadvisor?: boolean;
  max?: number;
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

/** Legend of a series: the variant and the runtime serving it. */
const SERIES = "{{variant}} ({{runtime}})";
const perVariant = (expr: string): QuerySpec[] => [{ expr, legend: SERIES }];

const PANEL_HEIGHT: Record<PanelSpec["kind"], number> = { timeseries: 8, stat: 5, bargauge: 7 };

type DashboardConfig = Pick<LabConfig, "networkName" | "variants" | "monitoring"> & Partial<Pick<LabConfig, "engine">>;

/** Swarm stacks: which node each variant's tasks run on, and what each node's lab containers use. */
const nodesRow: RowSpec = {
  title: "Nodes (swarm)",
  panels: [
    {
      kind: "bargauge",
      title: "Tasks per variant and node",
      description: "Scraped tasks of each variant on each swarm node (Prometheus's swarm discovery): where the variants run.",
      unit: "short",
      queries: [{ expr: q.tasksPerNode, legend: "{{variant}} on {{node}}" }],
      span: 8,
    },
    {
      kind: "timeseries",
      title: "CPU used per node (cores)",
      description: "CPU cores the selected variants' containers use on each node (cAdvisor runs on every node).",
      unit: "short",
      queries: [{ expr: q.nodeCpuCores, legend: "{{node}}" }],
      span: 16,
      fromCadvisor: true,
    },
  ],
};

/** The dashboard's layout: what is shown where, and from which query. */
function rows(config: DashboardConfig): RowSpec[] {
  return [
    {
      title: "Now (current values)",
      panels: [
        { kind: "stat", title: "Requests / s", description: "Current request rate per variant (app metrics).", unit: "reqps", queries: perVariant(q.requestRate), span: 5 },
        { kind: "stat", title: "p95 latency", description: "Current 95th percentile latency per variant (app histogram).", unit: "s", queries: perVariant(q.latencyQuantile(0.95)), span: 5 },
        { kind: "stat", title: "5xx share", description: "Share of requests answered with a 5xx.", unit: "percentunit", queries: perVariant(q.errorRatio), span: 4 },
        { kind: "stat", title: "CPU / limit", description: "CPU used as a share of the container's CPU limit (cAdvisor).", unit: "percentunit", queries: perVariant(q.containerCpuShareOfLimit), span: 5, fromCadvisor: true },
        { kind: "stat", title: "Memory / limit", description: "Working set as a share of the container's memory limit (cAdvisor).", unit: "percentunit", queries: perVariant(q.containerMemoryShareOfLimit), span: 5, fromCadvisor: true },
      ],
    },
    {
      title: "Traffic (the app's own metrics)",
      panels: [
        { kind: "timeseries", title: "Request rate", description: "Requests per second per variant, scrapes of /metrics excluded.", unit: "reqps", queries: perVariant(q.requestRate), span: 12 },
        { kind: "timeseries", title: "Error rate (5xx share)", description: "Share of requests answered with a 5xx per variant.", unit: "percentunit", queries: perVariant(q.errorRatio), span: 12 },
        {
          kind: "timeseries",
          title: "Latency p50 / p95 / p99",
          description: "Quantiles of http_request_duration_seconds per variant.",
          unit: "s",
          queries: q.LATENCY_QUANTILES.map((quantile) => ({ expr: q.latencyQuantile(quantile), legend: `${SERIES} p${Math.round(quantile * 100)}` })),
          span: 24,
        },
        { kind: "timeseries", title: "Process CPU (app's view)", description: "CPU seconds per second of the app's processes, from process_cpu_seconds_total.", unit: "short", queries: perVariant(q.processCpuCores), span: 12 },
        { kind: "timeseries", title: "Process resident memory (app's view)", description: "Resident memory of the app's processes, from process_resident_memory_bytes.", unit: "bytes", queries: perVariant(q.processResidentMemory), span: 12 },
      ],
    },
    {
      title: "Resources (cAdvisor)",
      panels: [
        { kind: "timeseries", title: "CPU used (cores)", description: "CPU cores used by each variant's container.", unit: "short", queries: perVariant(q.containerCpuCores), span: 12, fromCadvisor: true },
        { kind: "timeseries", title: "CPU used (share of limit)", description: "CPU used over the CFS quota Docker enforces (--cpus).", unit: "percentunit", queries: perVariant(q.containerCpuShareOfLimit), span: 12, fromCadvisor: true, max: 1 },
        { kind: "timeseries", title: "Memory working set", description: "Working set of each variant's container (what the OOM killer looks at).", unit: "bytes", queries: perVariant(q.containerWorkingSet), span: 12, fromCadvisor: true },
        { kind: "timeseries", title: "Memory working set (share of limit)", description: "Working set over the container's memory limit (--memory).", unit: "percentunit", queries: perVariant(q.containerMemoryShareOfLimit), span: 12, fromCadvisor: true, max: 1 },
        {
          kind: "timeseries",
          title: "Network I/O",
          description: "Bytes per second received (RX) and sent (TX) by each variant's container.",
          unit: "Bps",
          queries: [
            { expr: q.networkReceive, legend: `${SERIES} RX` },
            { expr: q.networkTransmit, legend: `${SERIES} TX` },
          ],
          span: 24,
          fromCadvisor: true,
        },
      ],
    },
    {
      title: "Comparison between variants",
      panels: [
        { kind: "bargauge", title: "Requests / s", description: "Request rate per variant.", unit: "reqps", queries: perVariant(q.requestRate), span: 6 },
        { kind: "bargauge", title: "p95 latency", description: "95th percentile latency per variant.", unit: "s", queries: perVariant(q.latencyQuantile(0.95)), span: 6 },
        { kind: "bargauge", title: "Requests / s per CPU core used", description: "Efficiency: request rate over the CPU cores the container used.", unit: "short", queries: perVariant(q.requestsPerCore), span: 6, fromCadvisor: true },
        { kind: "bargauge", title: "OOM kills (time range)", description: "Out-of-memory kills of each variant's processes over the dashboard's time range.", unit: "short", queries: perVariant(q.oomKills), span: 6, fromCadvisor: true },
        { kind: "bargauge", title: "CPU / limit", description: "CPU used as a share of each variant's limit.", unit: "percentunit", queries: perVariant(q.containerCpuShareOfLimit), span: 12, fromCadvisor: true, max: 1 },
        { kind: "bargauge", title: "Memory / limit", description: "Working set as a share of each variant's limit.", unit: "percentunit", queries: perVariant(q.containerMemoryShareOfLimit), span: 12, fromCadvisor: true, max: 1 },
      ],
    },
    ...(config.engine === "swarm" ? [nodesRow] : []),
    {
      title: "Cost of watching",
      panels: [
        {
          kind: "timeseries",
          title: "CPU used by the monitoring stack (cores)",
          description: "cAdvisor, Prometheus and Grafana share the host CPU with the variants they measure; this is what they take.",
          unit: "short",
          queries: [{ expr: q.monitoringCpuCores(monitoringContainerPrefix(config)), legend: "{{name}}" }],
          span: 24,
          fromCadvisor: true,
        },
      ],
    },
  ];
}

function target(query: QuerySpec, index: number): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS_DATASOURCE)
    .refId(String.fromCharCode(65 + index))
    .expr(query.expr)
    .legendFormat(query.legend)
    .range();
}

const lastValue = () => new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false);

function panelBuilder(spec: PanelSpec) {
  switch (spec.kind) {
    case "timeseries":
      return new timeseries.PanelBuilder()
        .fillOpacity(10)
        .showPoints(common.VisibilityMode.Never)
        .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(["mean", "max", "lastNotNull"]).showLegend(true));
    case "stat":
      return new stat.PanelBuilder()
        .reduceOptions(lastValue())
        .graphMode(common.BigValueGraphMode.Area)
        .colorMode(common.BigValueColorMode.Value)
        .textMode(common.BigValueTextMode.ValueAndName);
    case "bargauge":
      return new bargauge.PanelBuilder()
        .reduceOptions(lastValue())
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .showUnfilled(true);
  }
}

/**
 * The "OptiVolt Web API" dashboard as Grafana's dashboard JSON model, built from the stack config:
 * the `variant` template variable lists the configured variants (plus `scraped`, what Prometheus
 * scrapes beside them: the unikernel), and every panel and query points at the provisioned
 * Prometheus datasource by its fixed uid.
 */
export function buildWebApiDashboard(config: DashboardConfig, scraped: readonly string[] = []): dashboard.Dashboard {
  const variants = [...Object.keys(config.variants), ...scraped];
  // cAdvisor refreshes a container's stats once per housekeeping interval (plus jitter up to 1.5×).
  const cadvisorMinInterval = formatDurationMs(2 * durationMs(config.monitoring.cadvisor.housekeepingInterval));
  const refresh = formatDurationMs(Math.max(5_000, durationMs(config.monitoring.prometheus.scrapeInterval)));

  const builder = new dashboard.DashboardBuilder(WEBAPI_DASHBOARD_TITLE)
    .uid(WEBAPI_DASHBOARD_UID)
    .description("The same web API under different CPU and memory budgets: traffic from the app's own metrics, resources from cAdvisor.")
    .tags(["optivolt", "webapi"])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: "now-15m", to: "now" })
    .refresh(refresh)
    .withVariable(
      new dashboard.CustomVariableBuilder("variant")
        .label("Variant")
        .description("Variants from the stack config (optivolt:variants, and the unikernel when Prometheus scrapes it).")
        .values(variants.join(","))
        .multi(true)
        .includeAll(true)
        .current({ selected: true, text: ["All"], value: ["$__all"] }),
    );

  let nextId = 1;
  for (const row of rows(config)) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(nextId++));
    for (const spec of row.panels) {
      const panel = panelBuilder(spec)
        .id(nextId++)
        .title(spec.title)
        .description(spec.description)
        .datasource(PROMETHEUS_DATASOURCE)
        .unit(spec.unit)
        .span(spec.span)
        .height(PANEL_HEIGHT[spec.kind])
        .targets(spec.queries.map(target));
      if (spec.fromCadvisor) panel.interval(cadvisorMinInterval);
      if (spec.max !== undefined) panel.min(0).max(spec.max);
      builder.withPanel(panel);
    }
  }
  return builder.build();
}
