import { createHash } from "crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ProvisionedFile, monitoringFiles } from "../../dashboards/provisioning";
import { DOCKER_SOCKET } from "../../dashboards/swarmPrometheusConfig";
import { LabConfig } from "../../model/config";
import { MONITORING_LABEL, PRIVILEGED_EXEMPTION_LABEL, STACK_LABEL } from "../../model/labels";
import { GRAFANA_PATHS, MONITORING_INTERNAL_PORTS, MonitoringService, monitoringContainerName } from "../../model/monitoring/services";
import { CADVISOR_HOST_MOUNTS, monitoringSettings, monitoringUrls, ServiceSettings } from "../../model/monitoring/settings";
import { MonitoringOutputs } from "../stackOutputs";
import { CONVERGE, LOG_DRIVER, NO_RESERVATION, PLATFORMS_READ_BACK, RESTART_POLICY, endpointSpec, imageByDigest, labelList, onNetwork, publishingLabels, swarmResources } from "./serviceSpec";

export interface SwarmMonitoringArgs {
  config: Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName" | "engine" | "swarm">;
  network: docker.Network;
  endpointHost: string;
}

type ContainerSpec = Omit<docker.types.input.ServiceTaskSpecContainerSpec, "image" | "labels">;

/**
 * Prometheus (on a manager, discovering the swarm's tasks), cAdvisor (a global service: one task
 * per node) and Grafana, as Swarm services on the lab's overlay network, from the same settings as
 * the docker lab's Monitoring (model/monitoring/settings.ts). Generated files reach the tasks as
 * Swarm configs, the Grafana password as a Swarm secret.
 */
export class SwarmMonitoring extends pulumi.ComponentResource {
  /** The monitoring stack outputs, as a docker stack's. */
  public readonly outputs: MonitoringOutputs;
  public readonly prometheus: docker.Service;
  public readonly cadvisor: docker.Service;
  public readonly grafana: docker.Service;
  private readonly files: ReturnType<typeof monitoringFiles>;

  constructor(
    private readonly name: string,
    private readonly args: SwarmMonitoringArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("optivolt:lab:SwarmMonitoring", name, {}, opts);
    const { config, endpointHost } = args;
    this.files = monitoringFiles(config);
    const urls = monitoringUrls(config.monitoring, endpointHost);
    const settings = monitoringSettings(config.monitoring, urls.grafanaUrl);
    const adminPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this });
    this.outputs = { ...urls, grafanaAdminPassword: pulumi.secret(adminPassword.result) };
    this.prometheus = this.prometheusService(settings.prometheus);
    this.cadvisor = this.cadvisorService(settings.cadvisor);
    this.grafana = this.grafanaService(settings.grafana);
    this.registerOutputs(this.outputs);
  }

  private labels(service: MonitoringService, extra: Record<string, string> = {}) {
    const { config } = this.args;
    return labelList({ [STACK_LABEL]: config.stackName, [MONITORING_LABEL]: service, ...publishingLabels(config.swarm), ...extra });
  }

  /** Swarm configs are immutable: the name carries the content's hash, so a new content is a new config. */
  private swarmConfig(file: ProvisionedFile, service: MonitoringService) {
    const hash = createHash("sha256").update(file.content).digest("hex").slice(0, 12);
    const resource = new docker.ServiceConfig(
      `${this.name}-${service}${file.file.replace(/[^a-zA-Z0-9]+/g, "-")}`,
      { name: `${monitoringContainerName(this.args.config, service)}-${hash}`, dataRaw: file.content },
      { parent: this },
    );
    return { configId: resource.id, configName: resource.name, fileName: file.file };
  }

  /** What every monitoring service shares; the replicated ones add `convergeConfig` (a global one cannot). */
  private service(kind: MonitoringService, containerSpec: ContainerSpec, extraLabels: Record<string, string> = {}, placement: string[] = []) {
    const { config, network } = this.args;
    const { image, cpus, memoryMb, port } = config.monitoring[kind];
    const pinned = imageByDigest(`${this.name}-${kind}-image`, image, this);
    return {
      name: monitoringContainerName(config, kind),
      labels: this.labels(kind, extraLabels),
      endpointSpec: endpointSpec(config.swarm, [{ targetPort: MONITORING_INTERNAL_PORTS[kind], publishedPort: port }]),
      taskSpec: {
        containerSpec: { image: pinned, labels: this.labels(kind, extraLabels), ...containerSpec },
        resources: swarmResources(cpus, memoryMb, NO_RESERVATION),
        placement: { constraints: placement },
        networksAdvanceds: onNetwork(network, kind),
        restartPolicy: RESTART_POLICY,
        logDriver: LOG_DRIVER,
      },
    };
  }

  private prometheusService(settings: ServiceSettings): docker.Service {
    const containerSpec: ContainerSpec = {
      args: settings.args,
      // The socket belongs to root: the image's `nobody` cannot read it.
      user: "root",
      configs: this.files.prometheus.map((file) => this.swarmConfig(file, "prometheus")),
      mounts: [
        { type: "bind", source: DOCKER_SOCKET, target: DOCKER_SOCKET, readOnly: true },
        { type: "volume", source: `${monitoringContainerName(this.args.config, "prometheus")}-data`, target: "/prometheus" },
      ],
    };
    const exemption = { [PRIVILEGED_EXEMPTION_LABEL]: "Prometheus reads the swarm's tasks from the manager's Docker socket (dockerswarm_sd_configs)" };
    // The manager answers the swarm discovery, and the data volume stays on one node.
    const service = this.service("prometheus", containerSpec, exemption, ["node.role==manager"]);
    return new docker.Service(`${this.name}-prometheus`, { ...service, convergeConfig: CONVERGE }, { parent: this, ...PLATFORMS_READ_BACK });
  }

  private cadvisorService(settings: ServiceSettings): docker.Service {
    const containerSpec: ContainerSpec = {
      args: settings.args,
      // Swarm has no `privileged` and no devices: the host mounts alone (OOM events from /dev/kmsg are lost).
      mounts: CADVISOR_HOST_MOUNTS.filter((mount) => mount.hostPath !== "/dev/disk").map((mount) => ({
        type: "bind",
        source: mount.hostPath,
        target: mount.containerPath,
        readOnly: true,
      })),
    };
    const exemption = { [PRIVILEGED_EXEMPTION_LABEL]: "cAdvisor reads every container's cgroups and the Docker state on each node" };
    const service = this.service("cadvisor", containerSpec, exemption);
    // One task on every node, so every node's containers are measured; no convergeConfig (see CONVERGE).
    return new docker.Service(`${this.name}-cadvisor`, { ...service, mode: { global: true } }, { parent: this, ...PLATFORMS_READ_BACK });
  }

  private grafanaService(settings: ServiceSettings): docker.Service {
    const passwordSecret = new docker.Secret(
      `${this.name}-grafana-admin`,
      {
        name: `${monitoringContainerName(this.args.config, "grafana")}-admin-password`,
        data: this.outputs.grafanaAdminPassword.apply((p) => Buffer.from(p).toString("base64")),
      },
      { parent: this },
    );
    const service = this.service("grafana", {
      env: Object.fromEntries(settings.env),
      configs: this.files.grafana.map((file) => this.swarmConfig(file, "grafana")),
      secrets: [{ secretId: passwordSecret.id, secretName: passwordSecret.name, fileName: GRAFANA_PATHS.adminPassword, fileMode: 0o444 }],
    });
    return new docker.Service(`${this.name}-grafana`, { ...service, convergeConfig: CONVERGE }, { parent: this, ...PLATFORMS_READ_BACK, dependsOn: [this.prometheus] });
  }
}
