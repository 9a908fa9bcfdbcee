// Prometheus on a swarm: targets come from the manager's engine (dockerswarm_sd_configs, role
// `tasks`), not from fixed container names, and every series is labelled with its variant, node and runtime.
import { stringify } from "yaml";
import { LabConfig } from "../model/config";
import { STACK_LABEL } from "../model/labels";
import { APP_PORT } from "../model/naming";
import { longerDuration } from "../model/durations";
import { escapeRegex, globalSection, SCRAPE_JOBS } from "./prometheusConfig";
import { MONITORING_INTERNAL_PORTS, monitoringContainerName } from "../model/monitoring/services";

type StackConfig = Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName">;

/** Where Prometheus reads the swarm's tasks: the manager's engine socket, mounted into its task. */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** Swarm service labels as Prometheus names them (`optivolt.variant` → `..._label_optivolt_variant`). */
const serviceLabel = (label: string) => `__meta_dockerswarm_service_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;

/**
 * Relabelling shared by the task jobs: running tasks only, the address on the lab's overlay network
 * (one target per task, whatever ports it publishes) with the port the process listens on, and the node.
 */
function taskTargets(networkName: string, port: number) {
  return [
    { action: "keep", source_labels: ["__meta_dockerswarm_task_desired_state"], regex: "running" },
    { action: "keep", source_labels: ["__meta_dockerswarm_network_name"], regex: escapeRegex(networkName) },
    { action: "replace", source_labels: ["__address__"], regex: "(.+):\\d+", target_label: "__address__", replacement: `$1:${port}` },
    { action: "replace", source_labels: ["__meta_dockerswarm_node_hostname"], target_label: "node" },
  ];
}

/** The swarm's Prometheus configuration as a plain object. */
export function swarmPrometheusConfig(config: StackConfig) {
  const { prometheus, cadvisor } = config.monitoring;
  const discovery = [{ host: `unix://${DOCKER_SOCKET}`, role: "tasks", refresh_interval: prometheus.scrapeInterval }];
  const prefix = escapeRegex(`${config.networkName}-`);
  const variantAlternation = Object.keys(config.variants).map(escapeRegex).join("|");
  return {
    global: globalSection(config),
    scrape_configs: [
      { job_name: SCRAPE_JOBS.prometheus, static_configs: [{ targets: [`localhost:${MONITORING_INTERNAL_PORTS.prometheus}`] }] },
      {
        job_name: SCRAPE_JOBS.cadvisor,
        scrape_interval: longerDuration(prometheus.scrapeInterval, cadvisor.housekeepingInterval),
        dockerswarm_sd_configs: discovery,
        relabel_configs: [
          { action: "keep", source_labels: ["__meta_dockerswarm_service_name"], regex: escapeRegex(monitoringContainerName(config, "cadvisor")) },
          ...taskTargets(config.networkName, MONITORING_INTERNAL_PORTS.cadvisor),
        ],
        metric_relabel_configs: [
          { action: "keep", source_labels: ["name"], regex: `${prefix}.+` },
          // A task's container is `<service>.<slot>.<task id>`; the service is `<network>-<variant>`.
          { action: "replace", source_labels: ["name"], regex: `${prefix}(${variantAlternation})\\.\\d+\\..+`, target_label: "variant", replacement: "$1" },
        ],
      },
      {
        job_name: SCRAPE_JOBS.webApi,
        metrics_path: "/metrics",
        dockerswarm_sd_configs: discovery,
        relabel_configs: [
          { action: "keep", source_labels: [serviceLabel("optivolt.variant")], regex: ".+" },
          { action: "keep", source_labels: [serviceLabel(STACK_LABEL)], regex: escapeRegex(config.stackName) },
          ...taskTargets(config.networkName, APP_PORT),
          { action: "replace", source_labels: [serviceLabel("optivolt.variant")], target_label: "variant" },
          { action: "replace", source_labels: [serviceLabel("optivolt.runtime")], target_label: "runtime" },
        ],
      },
    ],
  };
}

/** `prometheus.yml` of a swarm stack. */
export function renderSwarmPrometheusConfig(config: StackConfig): string {
  const header =
    `# Generated from Pulumi.${config.stackName}.yaml by dashboards/swarmPrometheusConfig.ts; edit the stack config, not this file.\n` +
    `# Retention is a command-line flag (--storage.tsdb.retention.time=${config.monitoring.prometheus.retention}).\n`;
  return header + stringify(swarmPrometheusConfig(config));
}
