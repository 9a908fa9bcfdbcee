import { stringify } from "yaml";
import { LabConfig, RUNTIMES } from "../model/config";
import { APP_PORT, UNIKERNEL_VARIANT, variantContainerName } from "../model/naming";
import { longerDuration } from "../model/durations";
import { MONITORING_INTERNAL_PORTS, monitoringContainerName } from "../model/monitoring/services";

export const SCRAPE_JOBS = { prometheus: "prometheus", cadvisor: "cadvisor", webApi: "webapi", unikernel: "unikernel", microvm: "microvm" } as const;

/** `host:port` of every scrape target; on the lab network these are container names. */
export interface ScrapeTargets {
  prometheus: string;
  cadvisor: string;
  /** variant name → address of its `/metrics` */
  variants: Record<string, string>;
  /** The source-built unikernel's forwarded port on the lab network's gateway (`unikernelScrapeTarget`). */
  unikernel?: string;
  /** micro-VM variant → QEMU's forward of its host port on the lab network's gateway (as the unikernel's). */
  microvms?: Record<string, string>;
}

type StackConfig = Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName">;

/** Targets as Prometheus sees them inside the lab network. */
export function labScrapeTargets(config: StackConfig): ScrapeTargets {
  const variants: Record<string, string> = {};
  for (const name of Object.keys(config.variants)) {
    variants[name] = `${variantContainerName(config, name)}:${APP_PORT}`;
  }
  return {
    prometheus: `localhost:${MONITORING_INTERNAL_PORTS.prometheus}`,
    cadvisor: `${monitoringContainerName(config, "cadvisor")}:${MONITORING_INTERNAL_PORTS.cadvisor}`,
    variants,
  };
}

/** One `scrape_configs` entry of the lab's docker-engine config. */
export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  metrics_path?: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  metric_relabel_configs?: Record<string, unknown>[];
}

/**
 * Where Prometheus, a container on the lab network, scrapes the unikernel: QEMU's forward of the
 * unikernel's host port on that network's gateway (components/unikernel/network.ts), reachable from
 * the host and the bridge's containers only.
 */
export function unikernelScrapeTarget(gateway: string, hostPort: number): string {
  return `${gateway}:${hostPort}`;
}

/**
 * The unikernel's own job: its labels say what serves it (the ELF loader runs Debian's Node under
 * QEMU), so the dashboard shows it beside the containers and `isolation` tells them apart.
 */
export function unikernelScrapeJob(target: string): ScrapeConfig {
  return {
    job_name: SCRAPE_JOBS.unikernel,
    metrics_path: "/metrics",
    static_configs: [{ targets: [target], labels: { variant: UNIKERNEL_VARIANT, runtime: "node", isolation: "qemu" } }],
  };
}

/** The micro-VMs' job: Linux guests running the unikernel's payload, told apart by `isolation="microvm"`. */
export function microvmScrapeJob(targets: Record<string, string>): ScrapeConfig {
  return {
    job_name: SCRAPE_JOBS.microvm,
    metrics_path: "/metrics",
    static_configs: Object.entries(targets).map(([variant, target]) => ({ targets: [target], labels: { variant, runtime: "node", isolation: "microvm" } })),
  };
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Scrape and evaluation interval and the `lab` label every series carries (docker and swarm stacks alike). */
export function globalSection(config: Pick<StackConfig, "monitoring" | "stackName">) {
  const interval = config.monitoring.prometheus.scrapeInterval;
  return { scrape_interval: interval, evaluation_interval: interval, external_labels: { lab: config.stackName } };
}

/** The Prometheus configuration as a plain object (what `prometheus.yml` holds). */
export function prometheusConfig(config: StackConfig, targets: ScrapeTargets = labScrapeTargets(config)) {
  const { prometheus, cadvisor } = config.monitoring;
  const prefix = escapeRegex(`${config.networkName}-`);
  const variantAlternation = Object.keys(config.variants).map(escapeRegex).join("|");
  // cAdvisor names containers, not runtimes: one rule per runtime in use gives its containers' series the label.
  const runtimeRules = RUNTIMES.flatMap((runtime) => {
    const names = Object.entries(config.variants).filter(([, spec]) => spec.runtime === runtime).map(([name]) => escapeRegex(name));
    if (names.length === 0) return [];
    return [{ action: "replace", source_labels: ["name"], regex: `${prefix}(${names.join("|")})`, target_label: "runtime", replacement: runtime }];
  });
  const scrapeConfigs: ScrapeConfig[] = [
    {
      job_name: SCRAPE_JOBS.prometheus,
      static_configs: [{ targets: [targets.prometheus] }],
    },
    {
      job_name: SCRAPE_JOBS.cadvisor,
      // cAdvisor refreshes its cache once per housekeeping interval: scraping faster only costs CPU.
      scrape_interval: longerDuration(prometheus.scrapeInterval, cadvisor.housekeepingInterval),
      static_configs: [{ targets: [targets.cadvisor] }],
      metric_relabel_configs: [
        // Keep the lab's containers only (cAdvisor also reports the root cgroup and any other container).
        { action: "keep", source_labels: ["name"], regex: `${prefix}.+` },
        // Give container series the same `variant` label the app's own metrics carry.
        { action: "replace", source_labels: ["name"], regex: `${prefix}(${variantAlternation})`, target_label: "variant", replacement: "$1" },
        ...runtimeRules,
      ],
    },
    {
      job_name: SCRAPE_JOBS.webApi,
      metrics_path: "/metrics",
      static_configs: Object.entries(targets.variants).map(([variant, address]) => ({
        targets: [address],
        labels: { variant, runtime: config.variants[variant].runtime },
      })),
    },
    ...(targets.unikernel === undefined ? [] : [unikernelScrapeJob(targets.unikernel)]),
    ...(targets.microvms === undefined || Object.keys(targets.microvms).length === 0 ? [] : [microvmScrapeJob(targets.microvms)]),
  ];
  return { global: globalSection(config), scrape_configs: scrapeConfigs };
}

/** `prometheus.yml` rendered from the stack config. */
export function renderPrometheusConfig(config: StackConfig, targets?: ScrapeTargets): string {
  const header =
    `# Generated from Pulumi.${config.stackName}.yaml by dashboards/prometheusConfig.ts; edit the stack config, not this file.\n` +
    `# Retention is a command-line flag (--storage.tsdb.retention.time=${config.monitoring.prometheus.retention}).\n`;
  return header + stringify(prometheusConfig(config, targets));
}
