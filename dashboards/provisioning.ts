import { stringify } from "yaml";
import { LabConfig } from "../model/config";
import { UNIKERNEL_VARIANT } from "../model/naming";
import { renderPrometheusConfig, ScrapeTargets } from "./prometheusConfig";
import { renderSwarmPrometheusConfig } from "./swarmPrometheusConfig";
import {
  GRAFANA_PATHS,
  MONITORING_INTERNAL_PORTS,
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_DATASOURCE_UID,
  WEBAPI_DASHBOARD_FILE,
  monitoringContainerName,
} from "../model/monitoring/services";
import { buildWebApiDashboard } from "./webapiDashboard";

type StackConfig = Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName"> & Partial<Pick<LabConfig, "engine">>;

/** Grafana datasource provisioning: the lab's Prometheus under its fixed uid. */
export function renderDatasources(config: StackConfig): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus (OptiVolt lab)",
        uid: PROMETHEUS_DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: `http://${monitoringContainerName(config, "prometheus")}:${MONITORING_INTERNAL_PORTS.prometheus}`,
        isDefault: true,
        editable: false,
        // Tells Grafana the scrape interval, so `$__rate_interval` always spans at least 4 scrapes.
        jsonData: { timeInterval: config.monitoring.prometheus.scrapeInterval, httpMethod: "POST" },
      },
    ],
  });
}

/** Grafana dashboard provider: loads the dashboards this lab writes into GRAFANA_PATHS.dashboardsDir. */
export function renderDashboardProviders(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "optivolt",
        orgId: 1,
        folder: "OptiVolt",
        type: "file",
        // Provisioned from code: the UI may not delete or overwrite them.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_PATHS.dashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  });
}

/** A file the Monitoring component uploads into a container before it starts. */
export interface ProvisionedFile {
  /** Absolute path inside the container. */
  file: string;
  content: string;
}

/**
 * Every generated configuration file, per container: the one source for the component and
 * `dashboards:render`. `targets` (docker engine) overrides the scrape targets, and a unikernel
 * target adds its job and puts it on the dashboard.
 */
export function monitoringFiles(config: StackConfig, targets?: ScrapeTargets): { prometheus: ProvisionedFile[]; grafana: ProvisionedFile[] } {
  const scraped = [...(targets?.unikernel === undefined ? [] : [UNIKERNEL_VARIANT]), ...Object.keys(targets?.microvms ?? {})];
  return {
    prometheus: [{ file: PROMETHEUS_CONFIG_PATH, content: config.engine === "swarm" ? renderSwarmPrometheusConfig(config) : renderPrometheusConfig(config, targets) }],
    grafana: [
      { file: GRAFANA_PATHS.datasources, content: renderDatasources(config) },
      { file: GRAFANA_PATHS.dashboardProviders, content: renderDashboardProviders() },
      { file: WEBAPI_DASHBOARD_FILE, content: `${JSON.stringify(buildWebApiDashboard(config, scraped), null, 2)}\n` },
    ],
  };
}
