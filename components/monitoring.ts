import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { labScrapeTargets } from "../dashboards/prometheusConfig";
import { monitoringFiles } from "../dashboards/provisioning";
import { LabConfig } from "../model/config";
import { MONITORING_LABEL, PRIVILEGED_EXEMPTION_LABEL, STACK_LABEL } from "../model/labels";
import { GRAFANA_PATHS, MONITORING_INTERNAL_PORTS, MonitoringService, monitoringContainerName } from "../model/monitoring/services";
import { CADVISOR_HOST_MOUNTS, MONITORING_STOP_GRACE_SECONDS, monitoringSettings, monitoringUrls, ServiceSettings } from "../model/monitoring/settings";
import { MonitoringOutputs } from "./stackOutputs";

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

type GeneratedFiles = pulumi.Output<ReturnType<typeof monitoringFiles>>;

/** Prometheus, cAdvisor and Grafana on the lab network, provisioned from the stack config (model/monitoring/settings.ts). */
export class Monitoring extends pulumi.ComponentResource {
  /** The monitoring stack outputs, as a swarm stack's. */
  public readonly outputs: MonitoringOutputs;
  public readonly prometheus: docker.Container;
  public readonly cadvisor: docker.Container;
  public readonly grafana: docker.Container;

  constructor(
    name: string,
    private readonly args: MonitoringArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("optivolt:lab:Monitoring", name, {}, opts);
    const { config, endpointHost } = args;
    // The unikernel's target is the network's gateway, an output: the files wait for it when it is scraped.
    const unikernelTarget = args.unikernelScrapeTarget;
    const microvmTargets = args.microvmScrapeTargets ?? {};
    const files: GeneratedFiles =
      unikernelTarget === undefined && Object.keys(microvmTargets).length === 0
        ? pulumi.output(monitoringFiles(config))
        : pulumi
            .all([pulumi.output(unikernelTarget), pulumi.output(microvmTargets)])
            .apply(([unikernel, microvms]) => monitoringFiles(config, { ...labScrapeTargets(config), unikernel, microvms }));
    const urls = monitoringUrls(config.monitoring, endpointHost);
    const settings = monitoringSettings(config.monitoring, urls.grafanaUrl);
    const adminPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this });
    this.outputs = { ...urls, grafanaAdminPassword: pulumi.secret(adminPassword.result) };
    this.prometheus = this.prometheusContainer(name, settings.prometheus, files);
    this.cadvisor = this.cadvisorContainer(name, settings.cadvisor);
    this.grafana = this.grafanaContainer(name, settings.grafana, files);
    this.registerOutputs(this.outputs);
  }

  private labels(service: MonitoringService, extra: Record<string, string> = {}) {
    return Object.entries({ [STACK_LABEL]: this.args.config.stackName, [MONITORING_LABEL]: service, ...extra }).map(([label, value]) => ({ label, value }));
  }

  /** What every monitoring container has: its pinned image, its budget, its port on the bind address, labels, the lab network. */
  private serviceContainer(name: string, service: MonitoringService, extraLabels: Record<string, string> = {}) {
    const { config, network, bindAddress, swapLimit } = this.args;
    const { image, cpus, memoryMb, port } = config.monitoring[service];
    return {
      name: monitoringContainerName(config, service),
      // keepLocally: `pulumi destroy` leaves the image for the next `up` (and for offline labs that preloaded it).
      image: new docker.RemoteImage(`${name}-${service}`, { name: image, keepLocally: true }, { parent: this }).imageId,
      cpus: String(cpus),
      memory: memoryMb,
      memorySwap: swapLimit ? memoryMb : undefined,
      ports: [{ internal: MONITORING_INTERNAL_PORTS[service], external: port, ip: bindAddress, protocol: "tcp" }],
      restart: "unless-stopped",
      destroyGraceSeconds: MONITORING_STOP_GRACE_SECONDS[service],
      labels: this.labels(service, extraLabels),
      // Same network wiring as the variants: created on `bridge`, then moved onto the lab network.
      networkMode: "bridge",
      networksAdvanced: [{ name: network.name, aliases: [service] }],
    };
  }

  private prometheusContainer(name: string, settings: ServiceSettings, files: GeneratedFiles): docker.Container {
    const data = new docker.Volume(
      `${name}-prometheus-data`,
      { name: `${monitoringContainerName(this.args.config, "prometheus")}-data`, labels: this.labels("prometheus") },
      { parent: this },
    );
    return new docker.Container(
      `${name}-prometheus`,
      {
        ...this.serviceContainer(name, "prometheus"),
        command: withFlags(PROMETHEUS_IMAGE_DEFAULT_FLAGS, settings.args),
        uploads: files.prometheus,
        volumes: [{ volumeName: data.name, containerPath: "/prometheus" }],
      },
      { parent: this },
    );
  }

  private cadvisorContainer(name: string, settings: ServiceSettings): docker.Container {
    return new docker.Container(
      `${name}-cadvisor`,
      {
        ...this.serviceContainer(name, "cadvisor", {
          [PRIVILEGED_EXEMPTION_LABEL]: "cAdvisor reads every container's cgroups, /dev/kmsg (OOM events) and the Docker state on the host",
        }),
        command: settings.args,
        privileged: true,
        // On cgroup v2 Docker gives containers a private cgroup namespace; cAdvisor must see the host's.
        cgroupnsMode: "host",
        devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }],
        volumes: CADVISOR_HOST_MOUNTS.map((mount) => ({ ...mount, readOnly: true })),
      },
      { parent: this },
    );
  }

  private grafanaContainer(name: string, settings: ServiceSettings, files: GeneratedFiles): docker.Container {
    return new docker.Container(
      `${name}-grafana`,
      {
        ...this.serviceContainer(name, "grafana"),
        envs: settings.env.map(([variable, value]) => pulumi.interpolate`${variable}=${value}`),
        // The password makes `uploads` a secret input: Pulumi stores it encrypted in the state.
        uploads: files.grafana.apply((grafanaFiles) => [
          ...grafanaFiles,
          { file: GRAFANA_PATHS.adminPassword, content: this.outputs.grafanaAdminPassword, permissions: "0444" },
        ]),
      },
      { parent: this, dependsOn: [this.prometheus] },
    );
  }
}
