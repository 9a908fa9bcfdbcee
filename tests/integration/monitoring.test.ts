import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackConfig } from "../../model/config";
import { dockerfileTarget } from "../../model/naming";
import { SCRAPE_JOBS, labScrapeTargets, renderPrometheusConfig } from "../../dashboards/prometheusConfig";
import { panelQueries } from "../../dashboards/panels";
import { expandGrafanaVariables } from "../../dashboards/queries";
import { buildWebApiDashboard } from "../../dashboards/webapiDashboard";
import { RunningVariant, ensureWebApiImages, freeLoopbackPort, removeContainer, requireDockerEngine, runVariantContainer, until, waitForHealth } from "./support";

// A real Prometheus (Debian's binary, on loopback) runs the rendered config against the three real
// variant containers; only the target addresses change (published loopback ports instead of
// container names). cAdvisor cannot run on this machine, so its panels are only parsed here.

const config = loadStackConfig("dev");
const variants = Object.keys(config.variants);
const suffix = randomBytes(3).toString("hex");
/** Grafana would use max(4 × scrape interval, step + scrape interval); 30 s covers 6 scrapes of 5 s. */
const GRAFANA_VALUES = { variants, rateInterval: "30s", range: "5m" };
const LOAD_ROUTES = ["/", "/api/light", "/api/heavy", "/no-such-route"];

interface PromResponse<T> {
  status: "success" | "error";
  data: T;
  errorType?: string;
  error?: string;
}
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface TargetsData {
  activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[];
}

describe("monitoring (integration): the rendered Prometheus config and every dashboard query on a real Prometheus", function () {
  this.timeout(10 * 60_000);
  const running: RunningVariant[] = [];
  let workDir = "";
  let prometheus: ChildProcess | undefined;
  let prometheusLog = "";
  let prometheusUrl = "";
  let stopLoad = false;
  let load: Promise<number> = Promise.resolve(0);

  async function api<T>(pathAndQuery: string): Promise<PromResponse<T>> {
    const response = await fetch(`${prometheusUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as PromResponse<T>;
  }
  const instant = (expr: string) => api<{ resultType: string; result: VectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);

  before(async () => {
    await requireDockerEngine();
    const images = await ensureWebApiImages();
    for (const variant of variants) {
      const spec = config.variants[variant];
      assert.ok(images[dockerfileTarget(spec)], `no image for target ${dockerfileTarget(spec)}`);
      running.push(
        await runVariantContainer({
          name: `ovtest-monitoring-${variant}-${suffix}`,
          target: spec.target,
          runtime: spec.runtime,
          cpus: spec.cpus,
          memoryMb: spec.memoryMb,
          env: { VARIANT: variant },
        }),
      );
    }
    await Promise.all(running.map((r) => waitForHealth(r.url, 60_000)));

    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-monitoring-prometheus-"));
    const port = await freeLoopbackPort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const lab = labScrapeTargets(config);
    const targets = {
      ...lab,
      prometheus: `127.0.0.1:${port}`,
      variants: Object.fromEntries(running.map((r, i) => [variants[i], `127.0.0.1:${r.hostPort}`])),
    };
    fs.writeFileSync(path.join(workDir, "prometheus.yml"), renderPrometheusConfig(config, targets));
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${path.join(workDir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(workDir, "data")}`,
        `--storage.tsdb.retention.time=${config.monitoring.prometheus.retention}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-lifecycle",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr?.on("data", (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
    prometheus.once("error", (error) => (prometheusLog += `\nspawn failed: ${error.message} (install Debian's prometheus: apt-get install prometheus)`));
    await until(`Prometheus on ${prometheusUrl} ready (log: ${prometheusLog})`, 30_000, async () => {
      const response = await fetch(`${prometheusUrl}/-/ready`, { signal: AbortSignal.timeout(1000) });
      return response.ok ? true : undefined;
    });

    // Modest, steady load (two connections per variant) while the test waits for scrapes.
    load = Promise.all(
      running.flatMap((variant) =>
        [0, 1].map(async (worker) => {
          let sent = 0;
          while (!stopLoad) {
            const route = LOAD_ROUTES[(sent + worker) % LOAD_ROUTES.length];
            const response = await fetch(`${variant.url}${route}`, { signal: AbortSignal.timeout(10_000) });
            await response.arrayBuffer();
            sent++;
          }
          return sent;
        }),
      ),
    ).then((counts) => counts.reduce((a, b) => a + b, 0));
  });

  after(async () => {
    stopLoad = true;
    await load.catch(() => undefined);
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
      const stopping = Date.now();
      prometheus.kill("SIGTERM");
      await exited;
      // What the program's grace period for Prometheus (MONITORING_STOP_GRACE_SECONDS) has to cover.
      console.log(`      Prometheus stopped ${Date.now() - stopping} ms after SIGTERM`);
    }
    await Promise.all(running.map((r) => removeContainer(r.name)));
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("finds every variant target up, labelled with its variant and runtime, and Prometheus scraping itself", async () => {
    const targets = await until("every variant target and the self-scrape up", 60_000, async () => {
      const active = (await api<TargetsData>("/api/v1/targets?state=active")).data.activeTargets;
      const wanted = active.filter((t) => t.labels.job === SCRAPE_JOBS.webApi || t.labels.job === SCRAPE_JOBS.prometheus);
      return wanted.length === variants.length + 1 && wanted.every((t) => t.health === "up") ? wanted : undefined;
    });
    const variantLabels = targets.filter((t) => t.labels.job === SCRAPE_JOBS.webApi).map((t) => t.labels.variant);
    assert.deepStrictEqual(variantLabels.sort(), [...variants].sort());
    for (const target of targets.filter((t) => t.labels.job === SCRAPE_JOBS.webApi)) {
      assert.strictEqual(target.labels.runtime, config.variants[target.labels.variant].runtime, `runtime label of ${target.labels.variant}`);
    }
  });

  const panels = panelQueries(buildWebApiDashboard(config));

  it("parses every PromQL expression of every panel", async () => {
    for (const panel of panels) {
      for (const expr of panel.exprs) {
        const response = await instant(expandGrafanaVariables(expr, GRAFANA_VALUES));
        assert.strictEqual(response.status, "success", `panel "${panel.title}": ${response.errorType}: ${response.error}\n${expr}`);
      }
    }
  });

  it("returns data for every variant, with its runtime, from every app-metric panel under load", async () => {
    const appPanels = panels.filter((panel) => panel.fromApp);
    assert.ok(appPanels.length >= 8, `only ${appPanels.length} app-metric panels`);
    const missing = await until("every app-metric panel to show every variant", 90_000, async () => {
      const gaps: string[] = [];
      for (const panel of appPanels) {
        for (const expr of panel.exprs) {
          const response = await instant(expandGrafanaVariables(expr, GRAFANA_VALUES));
          const finite = response.data.result.filter((s) => Number.isFinite(Number(s.value[1])));
          // A series whose runtime label differs from the variant's would be a mislabelled runtime.
          const seen = new Set(finite.filter((s) => s.metric.runtime === config.variants[s.metric.variant]?.runtime).map((s) => s.metric.variant));
          const absent = variants.filter((v) => !seen.has(v));
          if (absent.length > 0) gaps.push(`"${panel.title}" lacks ${absent.join(", ")}: ${expr}`);
        }
      }
      return gaps.length === 0 ? gaps : undefined;
    });
    assert.deepStrictEqual(missing, []);
    const rate = await instant(expandGrafanaVariables(panels.find((p) => p.title === "Request rate")?.exprs[0] ?? "", GRAFANA_VALUES));
    for (const sample of rate.data.result) assert.ok(Number(sample.value[1]) > 0, `variant ${sample.metric.variant} shows no traffic`);
  });
});
