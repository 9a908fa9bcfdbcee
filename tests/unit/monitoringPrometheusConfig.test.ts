import * as assert from "assert";
import { parse } from "yaml";
import { ConfigError, LabConfig, loadStackConfig, parseLabConfig, projectKeys, readStackFile } from "../../model/config";
import { CADVISOR_DISABLED_METRICS, CADVISOR_REQUIRED_GROUPS } from "../../model/config/monitoring";
import { labScrapeTargets, prometheusConfig, renderPrometheusConfig, unikernelScrapeJob, unikernelScrapeTarget } from "../../dashboards/prometheusConfig";
import { monitoringFiles, renderDashboardProviders, renderDatasources } from "../../dashboards/provisioning";
import { WEBAPI_DASHBOARD_FILE } from "../../model/monitoring/services";
import { promtool } from "./monitoringPromtool";

type ScrapeConfig = ReturnType<typeof prometheusConfig>["scrape_configs"][number] & Record<string, any>;

describe("monitoring: Prometheus config and Grafana provisioning rendered from the stack config", () => {
  const config = loadStackConfig("dev");
  const rendered = renderPrometheusConfig(config);
  const parsed = parse(rendered) as { global: Record<string, unknown>; scrape_configs: ScrapeConfig[] };
  const job = (name: string) => {
    const found = parsed.scrape_configs.find((c) => c.job_name === name);
    assert.ok(found, `no ${name} job`);
    return found;
  };

  it("passes `promtool check config`", () => {
    const result = promtool("config", rendered);
    assert.ok(result.ok, result.output);
  });

  it("would fail `promtool check config` on a broken file (the check above can fail)", () => {
    const result = promtool("config", rendered.replace("scrape_interval: 5s", "scrape_interval: five seconds"));
    assert.ok(!result.ok, "promtool accepted an invalid duration");
  });

  it("scrapes every variant's /metrics by container name on the lab network, with variant and runtime labels", () => {
    const webapi = job("webapi");
    assert.strictEqual(webapi.metrics_path, "/metrics");
    assert.deepStrictEqual(webapi.static_configs, [
      { targets: ["optivolt-lab-standard:8000"], labels: { variant: "standard", runtime: "node" } },
      { targets: ["optivolt-lab-microvm:8000"], labels: { variant: "microvm", runtime: "node" } },
      { targets: ["optivolt-lab-minimal:8000"], labels: { variant: "minimal", runtime: "node" } },
      { targets: ["optivolt-lab-standard-bun:8000"], labels: { variant: "standard-bun", runtime: "bun" } },
      { targets: ["optivolt-lab-microvm-bun:8000"], labels: { variant: "microvm-bun", runtime: "bun" } },
      { targets: ["optivolt-lab-minimal-bun:8000"], labels: { variant: "minimal-bun", runtime: "bun" } },
    ]);
  });

  it("scrapes cAdvisor no faster than it refreshes, and labels its container series by variant", () => {
    const cadvisor = job("cadvisor");
    assert.deepStrictEqual(cadvisor.static_configs, [{ targets: ["optivolt-lab-monitoring-cadvisor:8080"] }]);
    assert.strictEqual(cadvisor.scrape_interval, "10s");
    const relabel = cadvisor.metric_relabel_configs as Record<string, unknown>[];
    assert.deepStrictEqual(relabel[0], { action: "keep", source_labels: ["name"], regex: "optivolt-lab-.+" });
    assert.deepStrictEqual(relabel[1], {
      action: "replace",
      source_labels: ["name"],
      regex: "optivolt-lab-(standard|microvm|minimal|standard-bun|microvm-bun|minimal-bun)",
      target_label: "variant",
      replacement: "$1",
    });
    assert.deepStrictEqual(relabel.slice(2), [
      { action: "replace", source_labels: ["name"], regex: "optivolt-lab-(standard|microvm|minimal)", target_label: "runtime", replacement: "node" },
      { action: "replace", source_labels: ["name"], regex: "optivolt-lab-(standard-bun|microvm-bun|minimal-bun)", target_label: "runtime", replacement: "bun" },
    ]);
  });

  it("gives cAdvisor series no runtime rule for a runtime no variant uses", () => {
    const nodeOnly: LabConfig = { ...config, variants: { standard: config.variants.standard } };
    const relabel = prometheusConfig(nodeOnly).scrape_configs[1].metric_relabel_configs as { target_label?: string; replacement?: string }[];
    assert.deepStrictEqual(relabel.filter((r) => r.target_label === "runtime").map((r) => r.replacement), ["node"]);
  });

  it("scrapes itself and uses the configured scrape interval", () => {
    assert.deepStrictEqual(job("prometheus").static_configs, [{ targets: ["localhost:9090"] }]);
    assert.strictEqual(parsed.global.scrape_interval, "5s");
  });

  it("escapes regex characters of the network name in the relabelling", () => {
    const dotted: LabConfig = { ...config, networkName: "lab.v2" };
    const relabel = prometheusConfig(dotted).scrape_configs[1].metric_relabel_configs as { regex: string }[];
    assert.strictEqual(relabel[0].regex, "lab\\.v2-.+");
  });

  it("changes only target addresses when given other targets (what the integration test relies on)", () => {
    const targets = labScrapeTargets(config);
    const moved = {
      prometheus: "127.0.0.1:1",
      cadvisor: "127.0.0.1:2",
      variants: Object.fromEntries(Object.keys(config.variants).map((name, i) => [name, `127.0.0.1:${3 + i}`])),
    };
    const replaced = renderPrometheusConfig(config, moved);
    let expected = rendered.replace(targets.prometheus, moved.prometheus).replace(targets.cadvisor, moved.cadvisor);
    for (const [variant, address] of Object.entries(targets.variants)) expected = expected.replace(address, moved.variants[variant]);
    assert.strictEqual(replaced, expected);
  });

  describe("the source-built unikernel", () => {
    const withUnikernel = { ...labScrapeTargets(config), unikernel: unikernelScrapeTarget("172.18.0.1", 8004) };

    it("is scraped at the lab network's gateway on its host port, in its own job labelled variant, runtime and isolation", () => {
      assert.strictEqual(unikernelScrapeTarget("172.18.0.1", 8004), "172.18.0.1:8004");
      const jobs = prometheusConfig(config, withUnikernel).scrape_configs;
      assert.deepStrictEqual(jobs.at(-1), {
        job_name: "unikernel",
        metrics_path: "/metrics",
        static_configs: [{ targets: ["172.18.0.1:8004"], labels: { variant: "unikernel", runtime: "node", isolation: "qemu" } }],
      });
      assert.deepStrictEqual(unikernelScrapeJob("10.0.0.1:9"), { ...jobs.at(-1), static_configs: [{ ...jobs.at(-1)!.static_configs[0], targets: ["10.0.0.1:9"] }] });
    });

    it("adds nothing else: without its target the config is the containers' alone", () => {
      const jobs = (targets?: typeof withUnikernel) => prometheusConfig(config, targets).scrape_configs.map((job) => job.job_name);
      assert.deepStrictEqual(jobs(), ["prometheus", "cadvisor", "webapi"]);
      assert.deepStrictEqual(jobs(withUnikernel), ["prometheus", "cadvisor", "webapi", "unikernel"]);
    });

    it("passes `promtool check config` with its job", () => {
      const result = promtool("config", renderPrometheusConfig(config, withUnikernel));
      assert.ok(result.ok, result.output);
    });

    it("joins the dashboard's variant list when it is scraped, and only then", () => {
      const variantValues = (targets?: typeof withUnikernel) => {
        const dashboard = JSON.parse(monitoringFiles(config, targets).grafana.find((f) => f.file === WEBAPI_DASHBOARD_FILE)!.content);
        return dashboard.templating.list.find((v: { name: string }) => v.name === "variant").query as string;
      };
      assert.strictEqual(variantValues(), Object.keys(config.variants).join(","));
      assert.strictEqual(variantValues(withUnikernel), [...Object.keys(config.variants), "unikernel"].join(","));
    });
  });

  it("provisions the Prometheus datasource under its fixed uid with the scrape interval as Grafana's minimum step", () => {
    const datasources = parse(renderDatasources(config)).datasources;
    assert.strictEqual(datasources.length, 1);
    assert.strictEqual(datasources[0].uid, "optivolt-prometheus");
    assert.strictEqual(datasources[0].type, "prometheus");
    assert.strictEqual(datasources[0].url, "http://optivolt-lab-monitoring-prometheus:9090");
    assert.strictEqual(datasources[0].jsonData.timeInterval, "5s");
  });

  it("provisions a file dashboard provider that the UI cannot overwrite", () => {
    const [provider] = parse(renderDashboardProviders()).providers;
    assert.strictEqual(provider.type, "file");
    assert.strictEqual(provider.options.path, "/etc/grafana/dashboards/optivolt");
    assert.strictEqual(provider.allowUiUpdates, false);
  });

  it("keeps the cAdvisor metric groups the dashboard reads and disables the rest", () => {
    for (const group of CADVISOR_REQUIRED_GROUPS) assert.ok(!CADVISOR_DISABLED_METRICS.includes(group), `${group} disabled`);
    for (const costly of ["disk", "diskIO", "percpu", "sched", "process", "tcp", "udp"] as const) {
      assert.ok(CADVISOR_DISABLED_METRICS.includes(costly), `${costly} still collected`);
    }
  });

  it("rejects unpinned monitoring images and bad durations with one message per key", () => {
    const raw = {
      ...projectKeys(readStackFile("dev")),
      monitoring: { grafana: { image: "grafana/grafana:latest" }, prometheus: { retention: "two weeks" } },
    };
    assert.throws(
      () => parseLabConfig(raw, "dev"),
      (error: unknown) =>
        error instanceof ConfigError &&
        /monitoring\.grafana\.image: must not use the `latest` tag/.test(error.message) &&
        /monitoring\.prometheus\.retention: must be a Prometheus duration/.test(error.message),
    );
  });
});
