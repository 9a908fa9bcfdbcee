// The settings both engines give the monitoring services: Prometheus's flags, cAdvisor's arguments
// and host mounts, Grafana's environment, the URLs the stack exports. The docker lab
// (components/monitoring.ts) turns this table into containers, the swarm lab
// (components/swarm/monitoring.ts) into services; neither spells a setting of its own.
import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../config";
import { CADVISOR_DISABLED_METRICS } from "../config/monitoring";
import { durationMs, formatDurationMs } from "../durations";
import { GRAFANA_PATHS, MonitoringService, PROMETHEUS_CONFIG_PATH, WEBAPI_DASHBOARD_FILE, WEBAPI_DASHBOARD_UID } from "./services";

type MonitoringConfig = LabConfig["monitoring"];

/** What one monitoring service starts with, on either engine. */
export interface ServiceSettings {
  /** Command-line flags after the image's entrypoint. */
  args: string[];
  /** Environment variables, in order. */
  env: [name: string, value: pulumi.Input<string>][];
}

/**
 * Host paths cAdvisor reads, as in its upstream `docker run` instructions; `/sys` carries
 * `/sys/fs/cgroup` for both cgroup v1 hierarchies and the v2 unified one.
 */
export const CADVISOR_HOST_MOUNTS: readonly { hostPath: string; containerPath: string }[] = [
  { hostPath: "/", containerPath: "/rootfs" },
  { hostPath: "/var/run", containerPath: "/var/run" },
  { hostPath: "/sys", containerPath: "/sys" },
  { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker" },
  { hostPath: "/dev/disk", containerPath: "/dev/disk" },
];

/**
 * Seconds each monitoring container gets between SIGTERM and SIGKILL on replace or destroy (the
 * provider removes with force without it). Prometheus stops scraping, then closes its TSDB: it
 * writes the head block's chunks and WAL out, which takes longer the more series it holds.
 * Grafana closes its SQLite database; cAdvisor holds no state.
 */
export const MONITORING_STOP_GRACE_SECONDS: Record<MonitoringService, number> = { prometheus: 30, grafana: 10, cadvisor: 5 };

/** The URL each service answers on, from the host the URLs name and the configured ports. */
export function monitoringUrls(settings: MonitoringConfig, endpointHost: string) {
  const grafanaUrl = pulumi.interpolate`http://${endpointHost}:${settings.grafana.port}`;
  return {
    prometheusUrl: pulumi.interpolate`http://${endpointHost}:${settings.prometheus.port}`,
    cadvisorUrl: pulumi.interpolate`http://${endpointHost}:${settings.cadvisor.port}`,
    grafanaUrl,
    dashboardUrl: pulumi.interpolate`${grafanaUrl}/d/${WEBAPI_DASHBOARD_UID}`,
  };
}

/** The table: each service's flags and environment, for the stack's monitoring config. */
export function monitoringSettings(settings: MonitoringConfig, grafanaUrl: pulumi.Input<string>): Record<MonitoringService, ServiceSettings> {
  const housekeeping = settings.cadvisor.housekeepingInterval;
  return {
    prometheus: {
      args: [
        `--config.file=${PROMETHEUS_CONFIG_PATH}`,
        "--storage.tsdb.path=/prometheus",
        `--storage.tsdb.retention.time=${settings.prometheus.retention}`,
        // POST /-/reload re-reads prometheus.yml without losing the in-memory head block.
        "--web.enable-lifecycle",
      ],
      env: [],
    },
    cadvisor: {
      args: [
        "--docker_only=true",
        `--housekeeping_interval=${housekeeping}`,
        // Dynamic housekeeping may back off on idle containers, but never past twice the interval.
        `--max_housekeeping_interval=${formatDurationMs(2 * durationMs(housekeeping))}`,
        `--disable_metrics=${CADVISOR_DISABLED_METRICS.join(",")}`,
        // Only name and image as labels: no per-container label/env series.
        "--store_container_labels=false",
      ],
      env: [],
    },
    grafana: {
      args: [],
      env: [
        ["GF_SECURITY_ADMIN_USER", "admin"],
        // From a file, not the environment: `docker inspect` shows every container's environment.
        ["GF_SECURITY_ADMIN_PASSWORD__FILE", GRAFANA_PATHS.adminPassword],
        ["GF_USERS_ALLOW_SIGN_UP", "false"],
        ["GF_AUTH_ANONYMOUS_ENABLED", "false"],
        ["GF_SERVER_ROOT_URL", grafanaUrl],
        ["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", WEBAPI_DASHBOARD_FILE],
        // An offline lab has nobody to report to; do not try.
        ["GF_ANALYTICS_REPORTING_ENABLED", "false"],
        ["GF_ANALYTICS_CHECK_FOR_UPDATES", "false"],
        ["GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false"],
      ],
    },
  };
}
