import * as assert from "assert";
import { parse as parseYaml } from "yaml";
import { loadStackConfig } from "../../model/config";
import { placementConstraints, variantScheduling } from "../../model/config/swarm";
import { PreflightProbes } from "../../components/preflight";
import { SwarmNode } from "../../components/swarm/services";
import { PUBLISHED_PORTS_EXEMPTION_LABEL } from "../../model/labels";
import { SHUTDOWN_DRAIN_MS } from "../../components/swarm/webApiService";
import { PROMETHEUS_CONFIG_PATH } from "../../model/monitoring/services";
import { portsBindLoopback } from "../../policy/policies";
import { LabRun, RecordedResource, runLabUnderMocks, stackEntries } from "../../policy/offline/mockedLab";
import { runPolicy, service } from "../support/policyHarness";
import { promtool } from "./monitoringPromtool";

const SERVICE = "docker:index/service:Service";
const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const SERVICE_CONFIG = "docker:index/serviceConfig:ServiceConfig";
const WEBAPI_SERVICE = "optivolt:lab:WebApiService";

function only(run: LabRun, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
}

const labelsOf = (resource: RecordedResource): Record<string, string> =>
  Object.fromEntries((resource.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));

/** The swarm stack with `optivolt:swarm` keys replaced. */
const swarmOverrides = (changes: Record<string, unknown>) => ({
  "optivolt:swarm": { ...(stackEntries("swarm")["optivolt:swarm"] as Record<string, unknown>), ...changes },
});

describe("program under mocks: the swarm stack", () => {
  const config = loadStackConfig("swarm");
  const registry = config.swarm.registry.address as string;
  let run: LabRun;
  before(async () => {
    run = await runLabUnderMocks("swarm");
  });

  it("creates one attachable overlay network and no container at all", () => {
    const networks = run.resources.filter((r) => r.type === NETWORK);
    assert.strictEqual(networks.length, 1);
    assert.deepStrictEqual({ name: networks[0].inputs.name, driver: networks[0].inputs.driver, attachable: networks[0].inputs.attachable }, { name: config.networkName, driver: "overlay", attachable: true });
    assert.deepStrictEqual(run.resources.filter((r) => r.type === "docker:index/container:Container"), []);
  });

  it("has exactly one Service per variant, each the child of its WebApiService", () => {
    const variantServices = run.resources.filter((r) => r.type === SERVICE && r.parent?.type === WEBAPI_SERVICE);
    assert.deepStrictEqual(variantServices.map((s) => s.name).sort(), Object.keys(config.variants).sort());
    for (const name of Object.keys(config.variants)) assert.deepStrictEqual(only(run, SERVICE, name).parent, { type: WEBAPI_SERVICE, name });
  });

  for (const [name, spec] of Object.entries(loadStackConfig("swarm").variants)) {
    describe(`variant ${name}`, () => {
      it("gets exactly its budget as limits, reservations equal, and its replicas", () => {
        const s = only(run, SERVICE, name).inputs;
        const budget = { nanoCpus: spec.cpus * 1e9, memoryBytes: spec.memoryMb * 1024 * 1024 };
        assert.deepStrictEqual(s.taskSpec.resources, { limits: budget, reservation: budget });
        assert.deepStrictEqual(s.mode, { replicated: { replicas: 1 } });
        assert.strictEqual(s.name, `${config.networkName}-${name}`);
      });

      it("is placed by the configured constraints, never on the load generator's node", () => {
        const constraints = only(run, SERVICE, name).inputs.taskSpec.placement.constraints;
        assert.deepStrictEqual(constraints, placementConstraints(variantScheduling(config.swarm, name).placement));
        assert.deepStrictEqual(constraints, ["node.labels.optivolt.role==lab"]);
      });

      it("runs the digest its image was pushed to the lab registry under", () => {
        const image = only(run, IMAGE, name);
        assert.strictEqual(image.inputs.imageName, `${registry}/optivolt-webapi:${spec.target}`);
        assert.deepStrictEqual(image.inputs.registry, { server: registry });
        assert.notStrictEqual(image.inputs.skipPush, true);
        assert.deepStrictEqual(image.dependsOn, [{ type: SERVICE, name: "registry" }], "pushed once the registry runs");
        const ref = only(run, SERVICE, name).inputs.taskSpec.containerSpec.image;
        assert.strictEqual(ref, image.state.repoDigest);
        assert.match(ref, new RegExp(`^${registry.replace(/\./g, "\\.")}/optivolt-webapi@sha256:[0-9a-f]{64}$`));
      });

      it("builds for the manager engine's platform, labelled with the stack like a docker stack's builds", () => {
        const build = only(run, IMAGE, name).inputs.build;
        assert.strictEqual(build.platform, "linux/amd64", "the mocked engine's platform");
        assert.strictEqual(build.args.OPTIVOLT_STACK, "swarm");
      });

      it("publishes its port in host mode with dnsrr, carrying the stack's stated reason", () => {
        const s = only(run, SERVICE, name);
        assert.deepStrictEqual(s.inputs.endpointSpec, { mode: "dnsrr", ports: [{ targetPort: 8000, publishedPort: spec.hostPort, publishMode: "host", protocol: "tcp" }] });
        assert.strictEqual(labelsOf(s)[PUBLISHED_PORTS_EXEMPTION_LABEL], config.swarm.publishedPortsReason);
      });

      it("has a health check, a stop grace period longer than the app's drain, and rolls back a failed update", () => {
        const s = only(run, SERVICE, name).inputs;
        const container = s.taskSpec.containerSpec;
        assert.deepStrictEqual(container.healthcheck.tests.slice(0, 3), ["CMD", "node", "-e"]);
        assert.strictEqual(container.env.SHUTDOWN_TIMEOUT_MS, String(SHUTDOWN_DRAIN_MS));
        assert.ok(Number.parseInt(container.stopGracePeriod, 10) * 1000 > SHUTDOWN_DRAIN_MS, container.stopGracePeriod);
        assert.strictEqual(s.updateConfig.failureAction, "rollback");
        assert.ok(["pause", "continue"].includes(s.rollbackConfig.failureAction));
        assert.deepStrictEqual(container.env.VARIANT, name);
      });

      it("joins the overlay network by its id, reachable there by its variant name", () => {
        assert.deepStrictEqual(only(run, SERVICE, name).inputs.taskSpec.networksAdvanceds, [{ id: `lab-id`, aliases: [name] }]);
      });
    });
  }

  it("runs the registry on a manager from the configured image (by its repo digest), published with the stack's stated reason", () => {
    const registryService = only(run, SERVICE, "registry");
    const s = registryService.inputs;
    const pulled = only(run, "docker:index/remoteImage:RemoteImage", "registry-image");
    assert.deepStrictEqual({ name: pulled.inputs.name, keepLocally: pulled.inputs.keepLocally }, { name: config.swarm.registry.image, keepLocally: true });
    assert.strictEqual(s.taskSpec.containerSpec.image, pulled.state.repoDigest);
    assert.deepStrictEqual(s.taskSpec.placement.constraints, ["node.role==manager"]);
    assert.deepStrictEqual(s.endpointSpec.ports, [{ targetPort: 5000, publishedPort: Number(registry.split(":")[1]), publishMode: "host", protocol: "tcp" }]);
    assert.strictEqual(labelsOf(registryService)[PUBLISHED_PORTS_EXEMPTION_LABEL], config.swarm.publishedPortsReason, "the stack's reason, like every other published port");
  });

  it("the registry's published port passes the policy pack with the stack's reason, and fails without one, like any other", async () => {
    const inputs = only(run, SERVICE, "registry").inputs;
    assert.deepStrictEqual((await runPolicy(portsBindLoopback, [service("registry", inputs)])).violations, []);
    const withoutReason = (labels: { label: string }[]) => labels.filter((l) => l.label !== PUBLISHED_PORTS_EXEMPTION_LABEL);
    const container = { ...inputs.taskSpec.containerSpec, labels: withoutReason(inputs.taskSpec.containerSpec.labels) };
    const unexplained = { ...inputs, labels: withoutReason(inputs.labels), taskSpec: { ...inputs.taskSpec, containerSpec: container } };
    const failed = await runPolicy(portsBindLoopback, [service("registry", unexplained)]);
    assert.match(failed.messages[0], /^docker\.Service "registry" publishes port 5000 \(host mode\) on every address of its nodes .*without saying why/);
  });

  it("caps the registry and the monitoring services without reserving CPUs the variants' reservations need", () => {
    for (const name of ["registry", "monitoring-prometheus", "monitoring-cadvisor", "monitoring-grafana"]) {
      const resources = only(run, SERVICE, name).inputs.taskSpec.resources;
      assert.ok(resources.limits.nanoCpus > 0 && resources.limits.memoryBytes > 0, name);
      assert.strictEqual(resources.reservation, undefined, name);
    }
  });

  it("runs cAdvisor on every node, and Prometheus on a manager with the Docker socket and a swarm-discovery config promtool accepts", () => {
    assert.deepStrictEqual(only(run, SERVICE, "monitoring-cadvisor").inputs.mode, { global: true });
    const prometheus = only(run, SERVICE, "monitoring-prometheus").inputs.taskSpec;
    assert.deepStrictEqual(prometheus.placement.constraints, ["node.role==manager"]);
    assert.ok(prometheus.containerSpec.mounts.some((m: { source: string }) => m.source === "/var/run/docker.sock"));
    const file = run.resources.find((r) => r.type === SERVICE_CONFIG && r.name.includes("prometheus"));
    assert.ok(file, "no Swarm config for prometheus.yml");
    assert.ok(prometheus.containerSpec.configs.some((c: { fileName: string }) => c.fileName === PROMETHEUS_CONFIG_PATH));
    const content = file.inputs.dataRaw as string;
    const checked = promtool("config", content);
    assert.ok(checked.ok, checked.output);
    const jobs = parseYaml(content).scrape_configs as { job_name: string; dockerswarm_sd_configs?: { role: string }[]; relabel_configs?: { target_label?: string }[] }[];
    const webapi = jobs.find((job) => job.job_name === "webapi");
    assert.deepStrictEqual(webapi?.dockerswarm_sd_configs?.map((sd) => sd.role), ["tasks"]);
    const targets = (webapi?.relabel_configs ?? []).map((r) => r.target_label).filter((t) => t !== undefined && !t.startsWith("__"));
    assert.deepStrictEqual(targets.sort(), ["node", "runtime", "variant"]);
  });

  it("exports what a docker stack exports, plus nodes", () => {
    assert.deepStrictEqual(Object.keys(run.outputs).sort(), ["cadvisorUrl", "dashboardUrl", "endpoints", "grafanaAdminPassword", "grafanaUrl", "nodes", "prometheusUrl", "variants"]);
    assert.strictEqual(run.outputs.endpoints.standard, `http://${config.endpointHost}:${config.variants.standard.hostPort}`);
  });

  it("publishes nothing with publishMode none, registry included: the images go to the registry the stack names", async () => {
    const quiet = await runLabUnderMocks("swarm", swarmOverrides({ publishMode: "none", publishedPortsReason: undefined }));
    const publishing = quiet.resources.filter((r) => r.type === SERVICE && (r.inputs.endpointSpec?.ports ?? []).length > 0);
    assert.deepStrictEqual(publishing.map((r) => r.name), []);
    assert.deepStrictEqual(quiet.resources.filter((r) => r.type === "optivolt:lab:Registry"), [], "no registry of the lab");
    const images = quiet.resources.filter((r) => r.type === IMAGE);
    assert.ok(images.length > 0 && images.every((image) => image.inputs.registry.server === registry && image.dependsOn.length === 0), "pushed to the named registry");
    assert.ok(quiet.resources.filter((r) => r.type === SERVICE).every((r) => labelsOf(r)[PUBLISHED_PORTS_EXEMPTION_LABEL] === undefined), "no exemption claimed");
  });

  it("publishes through the routing mesh and VIPs when configured", async () => {
    const mesh = await runLabUnderMocks("swarm", swarmOverrides({ publishMode: "ingress", endpointMode: "vip" }));
    const s = only(mesh, SERVICE, "minimal").inputs;
    assert.deepStrictEqual(s.endpointSpec.mode, "vip");
    assert.deepStrictEqual(s.endpointSpec.ports[0].publishMode, "ingress");
    assert.strictEqual(s.updateConfig.order, "start-first", "without host ports a new task starts before the old one stops");
  });

  it("index.ts reads the nodes from the manager at `pulumi up` and exports them", async () => {
    const nodes: SwarmNode[] = [
      { hostname: "m", role: "manager", labels: { "optivolt.role": "lab" }, address: "10.87.0.2" },
      { hostname: "w", role: "worker", labels: { "optivolt.role": "loadgen" }, address: "10.87.0.4" },
    ];
    const probes: PreflightProbes = {
      engineVersion: async () => "20.10.24",
      engineFacts: async () => ({ platform: "linux/amd64", swapLimit: true }),
      publishedPorts: async () => [],
      bindError: async () => undefined,
      swarm: { nodes: async () => nodes, registryTrust: async () => ({ insecureCidrs: ["10.87.0.0/24"], insecureRegistries: [] }) },
    };
    const up = await runLabUnderMocks("swarm", {}, { program: "index", probes });
    assert.deepStrictEqual(up.outputs.nodes, { m: { role: "manager", labels: { "optivolt.role": "lab" } }, w: { role: "worker", labels: { "optivolt.role": "loadgen" } } });
  });
});

describe("program under mocks: the docker stacks are untouched by the swarm engine", () => {
  for (const stack of ["dev", "ci"]) {
    it(`${stack}: containers on a bridge network, no service, registry, Swarm config or secret, no nodes output`, async () => {
      const run = await runLabUnderMocks(stack);
      const swarmTypes = [SERVICE, SERVICE_CONFIG, "docker:index/secret:Secret", "optivolt:lab:Registry", WEBAPI_SERVICE];
      assert.deepStrictEqual(run.resources.filter((r) => swarmTypes.includes(r.type)), []);
      assert.strictEqual(run.resources.find((r) => r.type === NETWORK)?.inputs.driver, "bridge");
      assert.strictEqual(run.outputs.nodes, undefined);
      assert.ok(run.resources.filter((r) => r.type === IMAGE).every((image) => image.inputs.skipPush === true && image.inputs.registry === undefined));
    });
  }
});
