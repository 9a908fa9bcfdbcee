import * as assert from "assert";
import { LabConfig, loadStackConfig } from "../../model/config";
import { panelQueries } from "../../dashboards/panels";
import { expandGrafanaVariables } from "../../dashboards/queries";
import { PROMETHEUS_DATASOURCE_UID } from "../../model/monitoring/services";
import { buildWebApiDashboard } from "../../dashboards/webapiDashboard";
import { promtool, recordingRules } from "./monitoringPromtool";

/** Every value stored under a `datasource` key anywhere in the JSON, with its path. */
function datasourceRefs(value: unknown, at = "$"): { at: string; ref: unknown }[] {
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => [
    ...(key === "datasource" ? [{ at: `${at}.${key}`, ref: child }] : []),
    ...datasourceRefs(child, `${at}.${key}`),
  ]);
}

describe("dashboards: the OptiVolt Web API dashboard", () => {
  const config = loadStackConfig("dev");
  const model = buildWebApiDashboard(config);
  const panels = panelQueries(model);
  const allExprs = panels.flatMap((panel) => panel.exprs);

  it("has the uid and title the lab links to", () => {
    assert.strictEqual(model.uid, "optivolt-webapi");
    assert.strictEqual(model.title, "OptiVolt Web API");
  });

  it("has a multi-value `variant` template variable listing the stack's variants", () => {
    const variable = model.templating?.list?.find((v) => v.name === "variant");
    assert.ok(variable, "no `variant` variable");
    assert.strictEqual(variable.type, "custom");
    assert.strictEqual(variable.query, Object.keys(config.variants).join(","));
    assert.strictEqual(variable.multi, true);
    assert.strictEqual(variable.includeAll, true);
  });

  it("keeps the runtime label on every per-variant series and names it in every legend", () => {
    const perVariant = allExprs.filter((expr) => expr.includes("by (variant"));
    assert.ok(perVariant.length >= 10, `only ${perVariant.length} per-variant expressions`);
    for (const expr of perVariant) assert.doesNotMatch(expr, /by \(variant\)|by \(variant, le\)/, `drops the runtime label: ${expr}`);
    for (const panel of (model.panels ?? []).flatMap((p) => ("panels" in p && Array.isArray(p.panels) ? p.panels : [p]))) {
      for (const target of (panel as { targets?: { expr?: string; legendFormat?: string }[] }).targets ?? []) {
        if (target.expr?.includes("by (variant")) assert.match(target.legendFormat ?? "", /\{\{variant\}\} \(\{\{runtime\}\}\)/);
      }
    }
  });

  it("follows the variant table rather than a fixed list", () => {
    const wider: LabConfig = { ...config, variants: { ...config.variants, tiny: { ...config.variants.minimal, hostPort: 8010 } } };
    const variable = buildWebApiDashboard(wider).templating?.list?.find((v) => v.name === "variant");
    assert.strictEqual(variable?.query, `${Object.keys(config.variants).join(",")},tiny`);
  });

  it("gives every panel (rows included) a unique id", () => {
    const ids = (model.panels ?? []).map((panel) => panel.id);
    assert.ok(ids.every((id) => typeof id === "number"), `panels without id: ${JSON.stringify(ids)}`);
    assert.strictEqual(new Set(ids).size, ids.length, `duplicate ids: ${JSON.stringify(ids)}`);
  });

  it("gives every visualisation panel at least one non-empty query, filtered by $variant unless it shows the monitoring stack", () => {
    assert.ok(panels.length >= 10, `only ${panels.length} panels`);
    for (const panel of panels) {
      assert.ok(panel.exprs.length > 0, `panel "${panel.title}" has no query`);
      for (const expr of panel.exprs) {
        assert.ok(expr.trim().length > 0, `panel "${panel.title}" has an empty query`);
        const filtered = expr.includes('variant=~"$variant"') || expr.includes('name=~"optivolt-lab-monitoring-.+"');
        assert.ok(filtered, `panel "${panel.title}" ignores the variant variable: ${expr}`);
      }
    }
    assert.strictEqual(panels.filter((panel) => !panel.exprs.some((expr) => expr.includes("$variant"))).length, 1);
  });

  it("refers to the provisioned datasource uid everywhere, never to an import placeholder", () => {
    const refs = datasourceRefs(model);
    assert.ok(refs.length >= 2 * panels.length, "panels and queries should each name the datasource");
    for (const { at, ref } of refs) {
      assert.deepStrictEqual(ref, { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID }, `datasource at ${at}`);
    }
    const json = JSON.stringify(model);
    assert.ok(!json.includes("${DS_"), "import placeholder ${DS_…} found");
    assert.ok(!("__inputs" in model), "import-only __inputs found");
  });

  it("shows what the issue asks for: CPU, memory, network, traffic, errors, latency, bar gauges and stats", () => {
    const has = (text: string) => allExprs.some((expr) => expr.includes(text));
    for (const metric of [
      "container_cpu_usage_seconds_total",
      "container_spec_cpu_quota",
      "container_memory_working_set_bytes",
      "container_spec_memory_limit_bytes",
      "container_network_receive_bytes_total",
      "container_network_transmit_bytes_total",
      "http_requests_total",
      'status=~"5.."',
    ]) {
      assert.ok(has(metric), `no panel reads ${metric}`);
    }
    for (const quantile of ["0.5", "0.95", "0.99"]) assert.ok(has(`histogram_quantile(${quantile},`), `no p${quantile} latency`);
    const types = new Set(panels.map((panel) => panel.type));
    for (const type of ["timeseries", "bargauge", "stat"]) assert.ok(types.has(type), `no ${type} panel`);
  });

  it("has PromQL that Prometheus parses once Grafana's variables are filled in (promtool check rules)", () => {
    const expanded = allExprs.map((expr) => expandGrafanaVariables(expr, { variants: Object.keys(config.variants), rateInterval: "1m", range: "15m" }));
    for (const expr of expanded) assert.ok(!expr.includes("$"), `unexpanded variable in ${expr}`);
    const result = promtool("rules", recordingRules(expanded));
    assert.ok(result.ok, result.output);
  });

  it("would catch a PromQL syntax error (the check above can fail)", () => {
    const result = promtool("rules", recordingRules(["sum by (variant) (rate(http_requests_total[1m])"]));
    assert.ok(!result.ok, "promtool accepted an unbalanced parenthesis");
  });
});

describe("dashboards: the node row of swarm stacks", () => {
  const swarm = loadStackConfig("swarm");
  const rowTitles = (config: LabConfig) => (buildWebApiDashboard(config).panels ?? []).filter((p) => p.type === "row").map((p) => p.title);

  it("adds a `Nodes (swarm)` row on swarm stacks only", () => {
    assert.ok(rowTitles(swarm).includes("Nodes (swarm)"));
    assert.ok(!rowTitles(loadStackConfig("dev")).includes("Nodes (swarm)"));
  });

  it("shows where each variant's tasks run and the CPU per node, filtered by $variant, in PromQL Prometheus parses", () => {
    const panels = panelQueries(buildWebApiDashboard(swarm));
    const byNode = panels.filter((panel) => panel.exprs.some((expr) => expr.includes("by (node)") || expr.includes("by (variant, node)")));
    assert.deepStrictEqual(byNode.map((panel) => panel.title), ["Tasks per variant and node", "CPU used per node (cores)"]);
    const exprs = byNode.flatMap((panel) => panel.exprs);
    for (const expr of exprs) assert.ok(expr.includes('variant=~"$variant"'), expr);
    const expanded = exprs.map((expr) => expandGrafanaVariables(expr, { variants: Object.keys(swarm.variants), rateInterval: "1m", range: "15m" }));
    const result = promtool("rules", recordingRules(expanded));
    assert.ok(result.ok, result.output);
  });
});
