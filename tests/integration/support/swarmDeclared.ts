// The swarm stack's resources as the Docker provider receives them (Pulumi input shapes), for the
// swarm lab suite to create through the engine API.
import { APP_PORT } from "../../../components/naming";
import { managerApi, SwarmLab } from "./swarmLab";

type Inputs = Record<string, any>;

export interface DeclaredLab {
  /** The lab's attachable overlay network. */
  network: Inputs;
  /** The registry service (one task on a manager, port published there). */
  registry: Inputs;
  /** Prometheus with dockerswarm_sd_configs, on a manager. */
  prometheus: Inputs;
  /** variant → its service; the image is filled in once pushed to the registry. */
  variants: Record<string, Inputs>;
  /** variant → Dockerfile target. */
  targets: Record<string, string>;
  /** The variant the suite rolls to a new image (two tasks, one per lab node). */
  rollingVariant: string;
}

const MIB = 1024 * 1024;
const PROMETHEUS_IMAGE = "optivolt/swarm-lab-prometheus:bookworm";

function variantService(prefix: string, variant: string, cpus: number, memoryMb: number, publishedPort: number, replicas: number): Inputs {
  const limits = { nanoCpus: Math.round(cpus * 1e9), memoryBytes: memoryMb * MIB };
  const policy = { parallelism: 1, delay: "2s", failureAction: "rollback", monitor: "10s", order: "stop-first" };
  return {
    name: `${prefix}-${variant}`,
    labels: [{ label: "optivolt.variant", value: variant }, { label: "optivolt.stack", value: "swarm" }],
    taskSpec: {
      containerSpec: {
        image: "",
        env: { VARIANT: variant },
        stopGracePeriod: "10s",
        healthcheck: { tests: ["CMD", "node", "-e", `fetch('http://127.0.0.1:${APP_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`], interval: "2s", timeout: "2s", startPeriod: "5s", retries: 3 },
      },
      resources: { limits, reservations: limits },
      placement: { constraints: ["node.labels.optivolt.role==lab"] },
      networksAdvanceds: [{ name: `${prefix}-net`, aliases: [variant] }],
      restartPolicy: { condition: "any", delay: "2s" },
    },
    mode: { replicated: { replicas } },
    updateConfig: policy,
    rollbackConfig: policy,
    endpointSpec: { mode: "dnsrr", ports: [{ targetPort: APP_PORT, publishedPort, publishMode: "host", protocol: "tcp" }] },
  };
}

/**
 * The stack the suite deploys. Budgets are scaled so that reservations (equal to limits) fit two
 * 2-CPU lab nodes with two tasks of the rolled variant, one per node: a host-mode port allows one
 * task per node.
 */
export async function declaredSwarmLab(lab: SwarmLab): Promise<DeclaredLab> {
  const prefix = lab.name;
  const network = `${prefix}-net`;
  const prometheusConfig = [
    "global: { scrape_interval: 2s }",
    "scrape_configs:",
    "  - job_name: webapi",
    "    dockerswarm_sd_configs: [{ host: 'unix:///var/run/docker.sock', role: tasks, refresh_interval: 2s }]",
    "    relabel_configs:",
    "      - { action: keep, source_labels: [__meta_dockerswarm_service_label_optivolt_variant], regex: '.+' }",
    "      - { action: keep, source_labels: [__meta_dockerswarm_task_desired_state], regex: running }",
    `      - { action: keep, source_labels: [__meta_dockerswarm_network_name], regex: '${network.replace(/[.]/g, "\\.")}' }`,
    `      - { action: replace, source_labels: [__address__], regex: '(.+):\\d+', target_label: __address__, replacement: '$1:${APP_PORT}' }`,
    "      - { action: replace, source_labels: [__meta_dockerswarm_service_label_optivolt_variant], target_label: variant }",
    "      - { action: replace, source_labels: [__meta_dockerswarm_node_hostname], target_label: node }",
  ].join("\n");
  const config = await managerApi<{ ID: string }>(lab, "POST", "/configs/create", { Name: `${prefix}-prometheus`, Data: Buffer.from(prometheusConfig).toString("base64") });
  return {
    network: { name: network, driver: "overlay", attachable: true, labels: [{ label: "optivolt.stack", value: "swarm" }] },
    registry: {
      name: `${prefix}-registry`,
      taskSpec: {
        containerSpec: { image: "optivolt/registry:2.8" },
        placement: { constraints: ["node.role==manager"] },
        networksAdvanceds: [{ name: network, aliases: ["registry"] }],
      },
      mode: { replicated: { replicas: 1 } },
      endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 5000, publishedPort: 5000, publishMode: "host" }] },
    },
    prometheus: {
      name: `${prefix}-prometheus`,
      taskSpec: {
        containerSpec: {
          image: PROMETHEUS_IMAGE,
          args: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
          user: "root",
          configs: [{ configId: config.ID, configName: `${prefix}-prometheus`, fileName: "/etc/prometheus/prometheus.yml" }],
          mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }],
        },
        placement: { constraints: ["node.role==manager"] },
        networksAdvanceds: [{ name: network, aliases: ["prometheus"] }],
      },
      mode: { replicated: { replicas: 1 } },
      endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 9090, publishedPort: 29090, publishMode: "host" }] },
    },
    variants: {
      standard: variantService(prefix, "standard", 1, 512, 28001, 1),
      microvm: variantService(prefix, "microvm", 0.5, 256, 28002, 1),
      minimal: variantService(prefix, "minimal", 0.5, 128, 28003, 2),
    },
    targets: { standard: "standard", microvm: "microvm", minimal: "minimal" },
    rollingVariant: "minimal",
  };
}
