import { createHash } from "crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { durationMs, formatDurationMs } from "../../dashboards/durations";
import { ProvisionedFile, WEBAPI_DASHBOARD_FILE, monitoringFiles } from "../../dashboards/provisioning";
import { GRAFANA_PATHS, MONITORING_INTERNAL_PORTS, MonitoringService, PROMETHEUS_CONFIG_PATH, WEBAPI_DASHBOARD_UID, monitoringContainerName } from "../../dashboards/services";
import { DOCKER_SOCKET } from "../../dashboards/swarmPrometheusConfig";
import { LabConfig } from "../config";
import { CADVISOR_DISABLED_METRICS } from "../config/monitoring";
import { CADVISOR_HOST_MOUNTS, MonitoringOutputs, PRIVILEGED_EXEMPTION_LABEL } from "../monitoring";
import { CONVERGE, LOG_DRIVER, NO_RESERVATION, PLATFORMS_READ_BACK, RESTART_POLICY, endpointSpec, imageByDigest, labelList, onNetwork, publishingLabels, swarmResources } from "./serviceSpec";

export interface SwarmMonitoringArgs {
  config: Pick<LabConfig, "networkName" | "variants" | "monitoring" | "stackName" | "engine" | "swarm">;
  network: docker.Network;
  endpointHost: string;
}

/**
 * Prometheus (on a manager, discovering the swarm's tasks), cAdvisor (a global service: one task
 * per node) and Grafana, as Swarm services on the lab's overlay network. Generated files reach
 * the tasks as Swarm configs, the Grafana password as a Swarm secret.
 */
export class SwarmMonitoring extends pulumi.ComponentResource {
  /** The monitoring stack outputs, as a docker stack's. */
  public readonly outputs: MonitoringOutputs;
  public readonly prometheus: docker.Service;
  public readonly cadvisor: docker.Service;
  public readonly grafana: docker.Service;

  constructor(name: string, args: SwarmMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:SwarmMonitoring", name, {}, opts);
    const { config, network, endpointHost } = args;
    const settings = config.monitoring;
    const files = monitoringFiles(config);
    const labels = (service: MonitoringService, extra: Record<string, string> = {}) =>
      labelList({ "optivolt.stack": config.stackName, "optivolt.monitoring": service, ...publishingLabels(config.swarm), ...extra });
    /** Swarm configs are immutable: the name carries the content's hash, so a new content is a new config. */
    const swarmConfig = (file: ProvisionedFile, service: MonitoringService) => {
      const hash = createHash("sha256").update(file.content).digest("hex").slice(0, 12);
      const resource = new docker.ServiceConfig(
        `${name}-${service}${file.file.replace(/[^a-zA-Z0-9]+/g, "-")}`,
        { name: `${monitoringContainerName(config, service)}-${hash}`, dataRaw: file.content },
        { parent: this },
      );
      return { configId: resource.id, configName: resource.name, fileName: file.file };
    };
    /** What every monitoring service shares; the replicated ones add `convergeConfig` (a global one cannot). */
    const service = (kind: MonitoringService, extraLabels: Record<string, string> = {}) => {
      const { image, cpus, memoryMb, port } = settings[kind];
      const pinned = imageByDigest(`${name}-${kind}-image`, image, this);
      return {
        name: monitoringContainerName(config, kind),
        labels: labels(kind, extraLabels),
        endpointSpec: endpointSpec(config.swarm, [{ targetPort: MONITORING_INTERNAL_PORTS[kind], publishedPort: port }]),
        taskSpec: (containerSpec: Omit<docker.types.input.ServiceTaskSpecContainerSpec, "image" | "labels">, placement: string[] = []) => ({
          containerSpec: { image: pinned, labels: labels(kind, extraLabels), ...containerSpec },
          resources: swarmResources(cpus, memoryMb, NO_RESERVATION),
          placement: { constraints: placement },
          networksAdvanceds: onNetwork(network, kind),
          restartPolicy: RESTART_POLICY,
          logDriver: LOG_DRIVER,
        }),
      };
    };
    const serviceOptions = { parent: this, ...PLATFORMS_READ_BACK };

    const prometheus = service("prometheus", {
      [PRIVILEGED_EXEMPTION_LABEL]: "Prometheus reads the swarm's tasks from the manager's Docker socket (dockerswarm_sd_configs)",
    });
    this.prometheus = new docker.Service(
      `${name}-prometheus`,
      {
        ...prometheus,
        convergeConfig: CONVERGE,
        taskSpec: prometheus.taskSpec(
          {
            args: [
              `--config.file=${PROMETHEUS_CONFIG_PATH}`,
              "--storage.tsdb.path=/prometheus",
              `--storage.tsdb.retention.time=${settings.prometheus.retention}`,
              "--web.enable-lifecycle",
            ],
            // The socket belongs to root: the image's `nobody` cannot read it.
            user: "root",
            configs: files.prometheus.map((file) => swarmConfig(file, "prometheus")),
            mounts: [
              { type: "bind", source: DOCKER_SOCKET, target: DOCKER_SOCKET, readOnly: true },
              { type: "volume", source: `${monitoringContainerName(config, "prometheus")}-data`, target: "/prometheus" },
            ],
          },
          // The manager answers the swarm discovery, and the data volume stays on one node.
          ["node.role==manager"],
        ),
      },
      serviceOptions,
    );

    const housekeeping = settings.cadvisor.housekeepingInterval;
    const cadvisor = service("cadvisor", {
      [PRIVILEGED_EXEMPTION_LABEL]: "cAdvisor reads every container's cgroups and the Docker state on each node",
    });
    this.cadvisor = new docker.Service(
      `${name}-cadvisor`,
      {
        ...cadvisor,
        // One task on every node, so every node's containers are measured; no convergeConfig (see CONVERGE).
        mode: { global: true },
        taskSpec: cadvisor.taskSpec({
          args: [
            "--docker_only=true",
            `--housekeeping_interval=${housekeeping}`,
            `--max_housekeeping_interval=${formatDurationMs(2 * durationMs(housekeeping))}`,
            `--disable_metrics=${CADVISOR_DISABLED_METRICS.join(",")}`,
            "--store_container_labels=false",
          ],
          // Swarm has no `privileged` and no devices: the host mounts alone (OOM events from /dev/kmsg are lost).
          mounts: CADVISOR_HOST_MOUNTS.filter((mount) => mount.hostPath !== "/dev/disk").map((mount) => ({
            type: "bind",
            source: mount.hostPath,
            target: mount.containerPath,
            readOnly: true,
          })),
        }),
      },
      serviceOptions,
    );

    const adminPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this });
    const grafanaAdminPassword = pulumi.secret(adminPassword.result);
    const passwordSecret = new docker.Secret(
      `${name}-grafana-admin`,
      { name: `${monitoringContainerName(config, "grafana")}-admin-password`, data: grafanaAdminPassword.apply((p) => Buffer.from(p).toString("base64")) },
      { parent: this },
    );
    const grafanaUrl = pulumi.interpolate`http://${endpointHost}:${settings.grafana.port}`;
    const grafana = service("grafana");
    this.grafana = new docker.Service(
      `${name}-grafana`,
      {
        ...grafana,
        convergeConfig: CONVERGE,
        taskSpec: grafana.taskSpec({
          env: {
            GF_SECURITY_ADMIN_USER: "admin",
            GF_SECURITY_ADMIN_PASSWORD__FILE: GRAFANA_PATHS.adminPassword,
            GF_USERS_ALLOW_SIGN_UP: "false",
            GF_AUTH_ANONYMOUS_ENABLED: "false",
            GF_SERVER_ROOT_URL: grafanaUrl,
            GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: WEBAPI_DASHBOARD_FILE,
            GF_ANALYTICS_REPORTING_ENABLED: "false",
            GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
            GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
          },
          configs: files.grafana.map((file) => swarmConfig(file, "grafana")),
          secrets: [{ secretId: passwordSecret.id, secretName: passwordSecret.name, fileName: GRAFANA_PATHS.adminPassword, fileMode: 0o444 }],
        }),
      },
      { ...serviceOptions, dependsOn: [this.prometheus] },
    );

    this.outputs = {
      prometheusUrl: pulumi.interpolate`http://${endpointHost}:${settings.prometheus.port}`,
      cadvisorUrl: pulumi.interpolate`http://${endpointHost}:${settings.cadvisor.port}`,
      grafanaUrl,
      dashboardUrl: pulumi.interpolate`${grafanaUrl}/d/${WEBAPI_DASHBOARD_UID}`,
      grafanaAdminPassword,
    };
    this.registerOutputs(this.outputs);
  }
}
