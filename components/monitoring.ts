import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { durationMs, formatDuration } from "../dashboards/durations";
import { labScrapeTargets } from "../dashboards/prometheusConfig";
import { WEBAPI_DASHBOARD_FILE, monitoringFiles } from "../dashboards/provisioning";
import { GRAFANA_PATHS, MONITORING_INTERNAL_PORTS, MonitoringService, PROMETHEUS_CONFIG_PATH, WEBAPI_DASHBOARD_UID, monitoringContainerName } from "../dashboards/services";
import { LabConfig } from "./config";
import { CADVISOR_DISABLED_METRICS } from "./config/monitoring";

/** Docker label the policy pack accepts as the reason a container may run privileged. */
export const PRIVILEGED_EXEMPTION_LABEL = "optivolt.policy/privileged-exemption";

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
 * The default command of the pinned `prom/prometheus` v2 image (its Dockerfile's CMD). A container
 * `command` replaces the CMD whole, so the program starts from these and adds or overrides by flag.
 */
export const PROMETHEUS_IMAGE_DEFAULT_FLAGS: readonly string[] = [
  "--config.file=/etc/prometheus/prometheus.yml",
  "--storage.tsdb.path=/prometheus",
  "--web.console.libraries=/usr/share/prometheus/console_libraries",
  "--web.console.templates=/usr/share/prometheus/consoles",
];

/** `defaults`, each flag replaced by the one of `ours` with the same name, then the rest of `ours`. */
export function withFlags(defaults: readonly string[], ours: readonly string[]): string[] {
  const nameOf = (flag: string) => flag.split("=")[0];
  const byName = new Map(ours.map((flag) => [nameOf(flag), flag]));
  const merged = defaults.map((flag) => byName.get(nameOf(flag)) ?? flag);
  return [...merged, ...ours.filter((flag) => !merged.includes(flag))];
}

/**
 * Seconds each monitoring container gets between SIGTERM and SIGKILL on replace or destroy (the
 * provider removes with force without it). Prometheus stops scraping, then closes its TSDB: it
 * writes the head block's chunks and WAL out, which takes longer the more series it holds.
 * Grafana closes its SQLite database; cAdvisor holds no state.
 */
export const MONITORING_STOP_GRACE_SECONDS: Record<MonitoringService, number> = { prometheus: 30, grafana: 10, cadvisor: 5 };

/** The stack outputs the Monitoring component provides (DESIGN.md "Stack outputs"). */
export interface MonitoringOutputs {
  prometheusUrl: pulumi.Output<string>;
  cadvisorUrl: pulumi.Output<string>;
  grafanaUrl: pulumi.Output<string>;
  /** `grafanaUrl` + `/d/optivolt-webapi` */
  dashboardUrl: pulumi.Output<string>;
  /** Grafana's `admin` password (secret). */
  grafanaAdminPassword: pulumi.Output<string>;
}

export interface MonitoringArgs {
  /** The validated stack config the generated files come from. */
  config: Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName">;
  network: docker.Network;
  /** Address every published port binds to. */
  bindAddress: string;
  /** Host name the URLs name. */
  endpointHost: string;
  /** Whether the engine limits swap; without it `memorySwap` stays unset (it would read back as -1 and diff on every `up`). */
  swapLimit: boolean;
  /** `host:port` of the source-built unikernel's /metrics, known once the lab network exists. */
  unikernelScrapeTarget?: pulumi.Input<string>;
  /** micro-VM variant → `host:port` of its /metrics (the same gateway forward). */
  microvmScrapeTargets?: Record<string, pulumi.Input<string>>;
}

/** Prometheus, cAdvisor and Grafana on the lab network, provisioned from the stack config. */
export class Monitoring extends pulumi.ComponentResource implements MonitoringOutputs {
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly cadvisorUrl: pulumi.Output<string>;
  public readonly grafanaUrl: pulumi.Output<string>;
  public readonly dashboardUrl: pulumi.Output<string>;
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  public readonly prometheus: docker.Container;
  public readonly cadvisor: docker.Container;
  public readonly grafana: docker.Container;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:Monitoring", name, {}, opts);
    const { config, network, bindAddress, endpointHost } = args;
    const settings = config.monitoring;
    // The unikernel's target is the network's gateway, an output: the files wait for it when it is scraped.
    const unikernelTarget = args.unikernelScrapeTarget;
    const microvmTargets = args.microvmScrapeTargets ?? {};
    const files =
      unikernelTarget === undefined && Object.keys(microvmTargets).length === 0
        ? pulumi.output(monitoringFiles(config))
        : pulumi
            .all([pulumi.output(unikernelTarget), pulumi.output(microvmTargets)])
            .apply(([unikernel, microvms]) => monitoringFiles(config, { ...labScrapeTargets(config), unikernel, microvms }));
    const labels = (service: string, extra: Record<string, string> = {}) =>
      Object.entries({ "optivolt.stack": config.stackName, "optivolt.monitoring": service, ...extra }).map(([label, value]) => ({ label, value }));
    /** What every monitoring container has: its pinned image, its budget, its port on the bind address, labels, the lab network. */
    const serviceContainer = (service: MonitoringService, extraLabels: Record<string, string> = {}) => {
      const { image, cpus, memoryMb, port } = settings[service];
      return {
        name: monitoringContainerName(config, service),
        // keepLocally: `pulumi destroy` leaves the image for the next `up` (and for offline labs that preloaded it).
        image: new docker.RemoteImage(`${name}-${service}`, { name: image, keepLocally: true }, { parent: this }).imageId,
        cpus: String(cpus),
        memory: memoryMb,
        memorySwap: args.swapLimit ? memoryMb : undefined,
        ports: [{ internal: MONITORING_INTERNAL_PORTS[service], external: port, ip: bindAddress, protocol: "tcp" }],
        restart: "unless-stopped",
        destroyGraceSeconds: MONITORING_STOP_GRACE_SECONDS[service],
        labels: labels(service, extraLabels),
        // Same network wiring as the variants: created on `bridge`, then moved onto the lab network.
        networkMode: "bridge",
        networksAdvanced: [{ name: network.name, aliases: [service] }],
      };
    };

    const prometheusData = new docker.Volume(
      `${name}-prometheus-data`,
      { name: `${monitoringContainerName(config, "prometheus")}-data`, labels: labels("prometheus") },
      { parent: this },
    );
    this.prometheus = new docker.Container(
      `${name}-prometheus`,
      {
        ...serviceContainer("prometheus"),
        command: withFlags(PROMETHEUS_IMAGE_DEFAULT_FLAGS, [
          `--config.file=${PROMETHEUS_CONFIG_PATH}`,
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${settings.prometheus.retention}`,
          // POST /-/reload re-reads prometheus.yml without losing the in-memory head block.
          "--web.enable-lifecycle",
        ]),
        uploads: files.prometheus,
        volumes: [{ volumeName: prometheusData.name, containerPath: "/prometheus" }],
      },
      { parent: this },
    );

    const housekeeping = settings.cadvisor.housekeepingInterval;
    this.cadvisor = new docker.Container(
      `${name}-cadvisor`,
      {
        ...serviceContainer("cadvisor", {
          [PRIVILEGED_EXEMPTION_LABEL]: "cAdvisor reads every container's cgroups, /dev/kmsg (OOM events) and the Docker state on the host",
        }),
        command: [
          "--docker_only=true",
          `--housekeeping_interval=${housekeeping}`,
          // Dynamic housekeeping may back off on idle containers, but never past twice the interval.
          `--max_housekeeping_interval=${formatDuration(2 * durationMs(housekeeping))}`,
          `--disable_metrics=${CADVISOR_DISABLED_METRICS.join(",")}`,
          // Only name and image as labels: no per-container label/env series.
          "--store_container_labels=false",
        ],
        privileged: true,
        // On cgroup v2 Docker gives containers a private cgroup namespace; cAdvisor must see the host's.
        cgroupnsMode: "host",
        devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }],
        volumes: CADVISOR_HOST_MOUNTS.map((mount) => ({ ...mount, readOnly: true })),
      },
      { parent: this },
    );

    const adminPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this });
    this.grafanaAdminPassword = pulumi.secret(adminPassword.result);
    this.grafanaUrl = pulumi.interpolate`http://${endpointHost}:${settings.grafana.port}`;
    this.grafana = new docker.Container(
      `${name}-grafana`,
      {
        ...serviceContainer("grafana"),
        envs: [
          "GF_SECURITY_ADMIN_USER=admin",
          // From a file, not the environment: `docker inspect` shows every container's environment.
          `GF_SECURITY_ADMIN_PASSWORD__FILE=${GRAFANA_PATHS.adminPassword}`,
          "GF_USERS_ALLOW_SIGN_UP=false",
          "GF_AUTH_ANONYMOUS_ENABLED=false",
          pulumi.interpolate`GF_SERVER_ROOT_URL=${this.grafanaUrl}`,
          `GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH=${WEBAPI_DASHBOARD_FILE}`,
          // An offline lab has nobody to report to; do not try.
          "GF_ANALYTICS_REPORTING_ENABLED=false",
          "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
          "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false",
        ],
        // The password makes `uploads` a secret input: Pulumi stores it encrypted in the state.
        uploads: files.grafana.apply((grafanaFiles) => [
          ...grafanaFiles,
          { file: GRAFANA_PATHS.adminPassword, content: this.grafanaAdminPassword, permissions: "0444" },
        ]),
      },
      { parent: this, dependsOn: [this.prometheus] },
    );

    this.prometheusUrl = pulumi.interpolate`http://${endpointHost}:${settings.prometheus.port}`;
    this.cadvisorUrl = pulumi.interpolate`http://${endpointHost}:${settings.cadvisor.port}`;
    this.dashboardUrl = pulumi.interpolate`${this.grafanaUrl}/d/${WEBAPI_DASHBOARD_UID}`;
    this.registerOutputs(this.outputs());
  }

  /** The five stack outputs, for `deployLab` to return. */
  public outputs(): MonitoringOutputs {
    return {
      prometheusUrl: this.prometheusUrl,
      cadvisorUrl: this.cadvisorUrl,
      grafanaUrl: this.grafanaUrl,
      dashboardUrl: this.dashboardUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
    };
  }
}
