import * as path from "path";
import { LabConfig } from "../config";

/** Fixed `uid` of the provisioned Prometheus datasource; every panel and query refers to it. */
export const PROMETHEUS_DATASOURCE_UID = "optivolt-prometheus";

/** The datasource reference the dashboard carries (never an import placeholder such as `${DS_PROMETHEUS}`). */
export const PROMETHEUS_DATASOURCE = { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID } as const;

export const WEBAPI_DASHBOARD_UID = "optivolt-webapi";
export const WEBAPI_DASHBOARD_TITLE = "OptiVolt Web API";

/** Port each monitoring service listens on inside its container (the host port comes from config). */
export const MONITORING_INTERNAL_PORTS = {
  prometheus: 9090,
  cadvisor: 8080,
  grafana: 3000,
} as const;

export type MonitoringService = keyof typeof MONITORING_INTERNAL_PORTS;

/**
 * Docker name of a monitoring container. The `monitoring-` infix keeps these names apart from
 * variant containers (`<network>-<variant>`), so cAdvisor's `name` label identifies variants alone.
 */
export function monitoringContainerName(config: Pick<LabConfig, "networkName">, service: MonitoringService): string {
  return `${monitoringContainerPrefix(config)}${service}`;
}

/** What every monitoring container's name starts with. */
export function monitoringContainerPrefix(config: Pick<LabConfig, "networkName">): string {
  return `${config.networkName}-monitoring-`;
}

/** Where Grafana reads the files this lab provisions (inside the Grafana container). */
export const GRAFANA_PATHS = {
  datasources: "/etc/grafana/provisioning/datasources/optivolt.yaml",
  dashboardProviders: "/etc/grafana/provisioning/dashboards/optivolt.yaml",
  /** Outside /var/lib/grafana (a volume in the image), so `docker cp` before start lands in the image layer. */
  dashboardsDir: "/etc/grafana/dashboards/optivolt",
  /** Read through GF_SECURITY_ADMIN_PASSWORD__FILE. */
  adminPassword: "/etc/grafana/secrets/admin-password",
} as const;

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";

/** Where Grafana reads the lab's dashboard; also its home dashboard. */
export const WEBAPI_DASHBOARD_FILE = path.posix.join(GRAFANA_PATHS.dashboardsDir, `${WEBAPI_DASHBOARD_UID}.json`);
