import { PRIVILEGED_EXEMPTION_LABEL } from "../../model/labels";
import * as assert from "assert";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { CADVISOR_DISABLED_METRICS } from "../../model/config/monitoring";
import { Monitoring, withFlags } from "../../components/monitoring";
import { CADVISOR_HOST_MOUNTS, MONITORING_STOP_GRACE_SECONDS } from "../../model/monitoring/settings";
import { labScrapeTargets, renderPrometheusConfig } from "../../dashboards/prometheusConfig";
import { LabRun, RecordedResource, promiseOf, runLabUnderMocks } from "../../policy/offline/mockedLab";

const MONITORING = "optivolt:lab:Monitoring";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

function find(run: LabRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} named ${name}`);
  return found;
}

/** Mocks hand a secret input over wrapped as `{ <sig>: …, value }`; assertions read the value. */
function unwrapSecret<T>(value: T | { value: T }): T {
  return !Array.isArray(value) && typeof value === "object" && value !== null && "value" in value ? value.value : (value as T);
}

function uploaded(container: RecordedResource, file: string): string {
  const uploads = unwrapSecret<{ file: string; content: string }[]>(container.inputs.uploads);
  const upload = uploads.find((u) => u.file === file);
  assert.ok(upload, `${container.name} gets no ${file}`);
  return upload.content;
}

describe("monitoring: withFlags keeps an image's default flags", () => {
  it("overrides a default by flag name, keeps the others in order and appends new ones", () => {
    assert.deepStrictEqual(withFlags(["--a=1", "--b=2", "--c"], ["--b=3", "--d", "--c"]), ["--a=1", "--b=3", "--c", "--d"]);
  });
});

describe("monitoring: the Monitoring component under Pulumi mocks (dev stack)", () => {
  let run: LabRun;
  before(async () => {
    run = await runLabUnderMocks("dev");
  });
  const container = (service: string) => find(run, CONTAINER, `monitoring-${service}`);
  const labelsOf = (resource: RecordedResource) =>
    Object.fromEntries((resource.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));

  it("creates one Monitoring component parenting three pinned images and three containers", () => {
    assert.strictEqual(run.resources.filter((r) => r.type === MONITORING).length, 1);
    const images = run.resources.filter((r) => r.type === REMOTE_IMAGE);
    assert.deepStrictEqual(
      images.map((i) => [i.name, i.inputs.name, i.inputs.keepLocally]),
      [
        ["monitoring-prometheus", run.config.monitoring.prometheus.image, true],
        ["monitoring-cadvisor", run.config.monitoring.cadvisor.image, true],
        ["monitoring-grafana", run.config.monitoring.grafana.image, true],
      ],
    );
    for (const image of images) assert.ok(!/:latest$/.test(image.inputs.name) && /:v?\d/.test(image.inputs.name), `${image.inputs.name} is not pinned`);
    for (const service of ["prometheus", "cadvisor", "grafana"]) {
      const c = container(service);
      assert.deepStrictEqual(c.parent, { type: MONITORING, name: "monitoring" });
      assert.strictEqual(c.inputs.name, `optivolt-lab-monitoring-${service}`);
      // The container runs the image the RemoteImage pulled (its id), not a floating tag.
      assert.match(c.inputs.image, /^sha256:[0-9a-f]{64}$/);
      assert.deepStrictEqual(c.inputs.networksAdvanced.map((n: { name: string }) => n.name), ["optivolt-lab"]);
    }
  });

  it("publishes each service on the configured port of the bind address only", () => {
    const ports = (service: string) => container(service).inputs.ports;
    assert.deepStrictEqual(ports("prometheus"), [{ internal: 9090, external: 9090, ip: "127.0.0.1", protocol: "tcp" }]);
    assert.deepStrictEqual(ports("cadvisor"), [{ internal: 8080, external: 8081, ip: "127.0.0.1", protocol: "tcp" }]);
    assert.deepStrictEqual(ports("grafana"), [{ internal: 3000, external: 3000, ip: "127.0.0.1", protocol: "tcp" }]);
  });

  it("caps each monitoring container's CPU and memory, without swap, so watching cannot starve the variants", () => {
    const caps = (service: string) => {
      const { cpus, memory, memorySwap } = container(service).inputs;
      return { cpus, memory, memorySwap };
    };
    assert.deepStrictEqual(caps("prometheus"), { cpus: "0.5", memory: 512, memorySwap: 512 });
    assert.deepStrictEqual(caps("cadvisor"), { cpus: "0.25", memory: 256, memorySwap: 256 });
    assert.deepStrictEqual(caps("grafana"), { cpus: "0.5", memory: 512, memorySwap: 512 });
  });

  it("runs Prometheus on the rendered config, with the image's default flags, retention, lifecycle API and a data volume", () => {
    const prometheus = container("prometheus");
    // The mocked network's gateway, where the source-built unikernel's port and the micro-VM's are forwarded too.
    const targets = { ...labScrapeTargets(run.config), unikernel: "172.30.0.1:8004", microvms: { "microvm-vm": "172.30.0.1:8005" } };
    assert.strictEqual(uploaded(prometheus, "/etc/prometheus/prometheus.yml"), renderPrometheusConfig(run.config, targets));
    // A `command` replaces the image's CMD whole: its console flags must be kept, not dropped.
    assert.deepStrictEqual(prometheus.inputs.command, [
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--web.console.libraries=/usr/share/prometheus/console_libraries",
      "--web.console.templates=/usr/share/prometheus/consoles",
      "--storage.tsdb.retention.time=15d",
      "--web.enable-lifecycle",
    ]);
    assert.deepStrictEqual(prometheus.inputs.volumes, [{ volumeName: "optivolt-lab-monitoring-prometheus-data", containerPath: "/prometheus" }]);
  });

  it("stops every container with SIGTERM and a grace period on replace and destroy, Prometheus the longest", () => {
    // Unset, the provider removes containers with force (SIGKILL): Prometheus would not close its TSDB.
    const grace = (service: string) => container(service).inputs.destroyGraceSeconds;
    assert.deepStrictEqual({ prometheus: grace("prometheus"), grafana: grace("grafana"), cadvisor: grace("cadvisor") }, MONITORING_STOP_GRACE_SECONDS);
    assert.ok(grace("prometheus") >= 30 && grace("grafana") > 0 && grace("cadvisor") > 0);
  });

  it("gives cAdvisor its host mounts (read-only), /dev/kmsg, the host cgroup namespace and the cheap flags", () => {
    const cadvisor = container("cadvisor");
    assert.deepStrictEqual(
      cadvisor.inputs.volumes,
      CADVISOR_HOST_MOUNTS.map((m) => ({ ...m, readOnly: true })),
    );
    assert.deepStrictEqual(
      CADVISOR_HOST_MOUNTS.map((m) => m.hostPath),
      ["/", "/var/run", "/sys", "/var/lib/docker", "/dev/disk"],
    );
    assert.deepStrictEqual(cadvisor.inputs.devices, [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }]);
    assert.strictEqual(cadvisor.inputs.cgroupnsMode, "host");
    assert.deepStrictEqual(cadvisor.inputs.command, [
      "--docker_only=true",
      "--housekeeping_interval=10s",
      "--max_housekeeping_interval=20s",
      `--disable_metrics=${CADVISOR_DISABLED_METRICS.join(",")}`,
      "--store_container_labels=false",
    ]);
  });

  it("runs only cAdvisor privileged, and says why in the label the policy pack reads", () => {
    assert.strictEqual(container("cadvisor").inputs.privileged, true);
    assert.match(labelsOf(container("cadvisor"))[PRIVILEGED_EXEMPTION_LABEL], /cgroups/);
    for (const service of ["prometheus", "grafana"]) {
      assert.ok(!container(service).inputs.privileged, `${service} is privileged`);
      assert.ok(!(PRIVILEGED_EXEMPTION_LABEL in labelsOf(container(service))));
    }
  });

  it("gives Grafana the generated admin password (as a file), no sign-up, and the provisioned datasource and dashboard", () => {
    const grafana = container("grafana");
    const envs = grafana.inputs.envs as string[];
    // Through a file, so `docker inspect` (which lists the environment) never shows it.
    assert.ok(envs.includes("GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/secrets/admin-password"), envs.join(" "));
    assert.strictEqual(uploaded(grafana, "/etc/grafana/secrets/admin-password"), "mock-password-monitoring-grafana-admin");
    assert.ok(!envs.some((env) => env.includes("mock-password")), "the password is in the environment");
    assert.ok(envs.includes("GF_USERS_ALLOW_SIGN_UP=false"));
    assert.strictEqual(find(run, "random:index/randomPassword:RandomPassword", "monitoring-grafana-admin").inputs.length, 24);

    const datasources = parse(uploaded(grafana, "/etc/grafana/provisioning/datasources/optivolt.yaml")).datasources;
    assert.strictEqual(datasources[0].uid, "optivolt-prometheus");
    assert.strictEqual(datasources[0].url, "http://optivolt-lab-monitoring-prometheus:9090");
    const providers = parse(uploaded(grafana, "/etc/grafana/provisioning/dashboards/optivolt.yaml")).providers;
    assert.strictEqual(providers[0].options.path, "/etc/grafana/dashboards/optivolt");
    const dashboardJson = JSON.parse(uploaded(grafana, "/etc/grafana/dashboards/optivolt/optivolt-webapi.json"));
    assert.strictEqual(dashboardJson.uid, "optivolt-webapi");
  });

  it("exports the monitoring URLs and the admin password", () => {
    assert.strictEqual(run.outputs.prometheusUrl, "http://127.0.0.1:9090");
    assert.strictEqual(run.outputs.cadvisorUrl, "http://127.0.0.1:8081");
    assert.strictEqual(run.outputs.grafanaUrl, "http://127.0.0.1:3000");
    assert.strictEqual(run.outputs.dashboardUrl, "http://127.0.0.1:3000/d/optivolt-webapi");
    assert.strictEqual(run.outputs.grafanaAdminPassword, "mock-password-monitoring-grafana-admin");
  });

  it("keeps the admin password a secret output", async () => {
    const network = new docker.Network("secret-check", { name: "ovtest-monitoring-secret-check" });
    const monitoring = new Monitoring("secret-check", { config: run.config, network, bindAddress: "127.0.0.1", endpointHost: "127.0.0.1", swapLimit: true });
    // Let every registration reach the mocks before the next suite swaps them.
    await Promise.all([monitoring.prometheus, monitoring.cadvisor, monitoring.grafana].map((c) => promiseOf(c.id)));
    assert.strictEqual(await pulumi.isSecret(monitoring.outputs.grafanaAdminPassword), true);
    assert.strictEqual(await pulumi.isSecret(monitoring.outputs.grafanaUrl), false);
  });

  it("follows the configured ports and bind address", async () => {
    const moved = await runLabUnderMocks("dev", {
      "optivolt:bindAddress": "10.1.2.3",
      "optivolt:monitoring": { prometheus: { port: 19090 }, grafana: { port: 13000 } },
    });
    const ports = (service: string) => find(moved, CONTAINER, `monitoring-${service}`).inputs.ports[0];
    assert.deepStrictEqual([ports("prometheus").ip, ports("prometheus").external], ["10.1.2.3", 19090]);
    assert.deepStrictEqual([ports("grafana").ip, ports("grafana").external], ["10.1.2.3", 13000]);
    assert.strictEqual(moved.outputs.dashboardUrl, "http://10.1.2.3:13000/d/optivolt-webapi");
  });

  it("creates nothing and exports no monitoring output when monitoring is off", async () => {
    const off = await runLabUnderMocks("dev", { "optivolt:monitoring": { enabled: false } });
    const leftovers = off.resources.filter((r) => r.type === MONITORING || r.type === REMOTE_IMAGE || r.name.startsWith("monitoring"));
    assert.deepStrictEqual(leftovers.map((r) => r.name), []);
    for (const key of ["prometheusUrl", "cadvisorUrl", "grafanaUrl", "dashboardUrl", "grafanaAdminPassword"]) {
      assert.ok(!(key in off.outputs), `${key} exported`);
    }
    assert.ok(off.resources.some((r) => r.type === CONTAINER), "the variants should still be deployed");
  });
});
