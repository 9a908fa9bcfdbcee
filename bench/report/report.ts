/** report.md from results.json (pure: same results, same text). */
import { Analysis, analyze, isEmulated, variantTitle, versusBaseline } from "../numbers/analysis";
import { conclusions } from "./conclusions";
import { isolationText, ladderSection } from "./ladder";
import { bar, budgetText, DASH, num, percent, times } from "../numbers/format";
import { fastestReference, machineFlag, OTHERS_BOUND, REFERENCE_BOUND, REFERENCE_ROUNDS, STEAL_BOUND } from "../counters/reference";
import { BenchResults, RunResult, VariantResult } from "../schema";
import { describeUserlandProxy } from "../reach/userlandProxy";
import { variantStressOutcomes } from "../numbers/stress";

/** Chart files the report links, relative to the output directory. */
export interface ChartLinks {
  throughput?: string;
  latency?: string;
  efficiency?: string;
  stress?: string;
  ladder?: string;
}

const STATUS_TEXT: Record<VariantResult["status"], string> = {
  measured: "✅ measured",
  skipped: "⚠️ skipped",
  unreachable: "❌ unreachable",
  refused: "⛔ refused",
  failed: "❌ failed",
  "not-run": "⏸️ not run",
};

const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
const table = (head: readonly string[], rows: readonly (readonly string[])[]) =>
  [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");

function variantLabel(a: Analysis, v: VariantResult): string {
  return v.name === a.baseline ? `**${variantTitle(v)}** (baseline)` : `**${variantTitle(v)}**`;
}

function header(r: BenchResults): string {
  const s = r.settings;
  const per = s.mode === "stress" ? "per concurrency step" : "per endpoint";
  const lines = [
    "# OptiVolt web API — benchmark report",
    "",
    `**Mode:** ${s.mode} (${s.durationSeconds} s ${per}, ${s.warmupSeconds} s warm-up before each run, ` +
      `${s.mode === "stress" ? `connections from ${s.connections} doubling to ${s.stress.maxConnections}` : `${s.connections} connections`}, ` +
      `${s.repetitions} repetition${s.repetitions === 1 ? "" : "s"})  `,
    `**Load engine:** ${s.engine} ${r.provenance.tools[s.engine] ?? ""}  `,
    `**Measuring path:** ${PATH_TEXT[s.path]}${qemuPathText(r)}  `,
    `**Docker userland-proxy:** ${describeUserlandProxy(r.provenance.userlandProxy)}. ${proxyCost(r)}  `,
    `**Started:** ${r.startedAt} · **Finished:** ${r.finishedAt}  `,
    `**Targets:** ${s.source} · **Baseline:** ${s.baseline}`,
  ];
  if (!r.complete) lines.push("", "> ⚠️ **Interrupted run:** the figures cover only what was measured before the interrupt.");
  return lines.join("\n");
}

const PATH_TEXT: Record<BenchResults["settings"]["path"], string> = {
  namespace: "namespace — the load generator (wrk) ran in a container inside each variant's network namespace and sent to 127.0.0.1 there: no docker-proxy, no NAT, pinned to cores no measured variant may use",
  published: "published — the load generator ran on the host and sent to each variant's published port (through docker-proxy when the engine runs it, which then shares the CPUs)",
  swarm: "swarm — the load generator (wrk) ran as a Swarm task on the optivolt.role=loadgen node and sent to each variant's service on the overlay network: no core shared with a variant; each variant's line says which nodes ran both sides",
};

/** QEMU variants have no namespace to join: whatever the session's path, the load goes to their forwarded port. */
function qemuPathText(r: BenchResults): string {
  const qemu = r.variants.filter((v) => v.provenance.isolation === "qemu").map((v) => v.name);
  if (qemu.length === 0) return "";
  return `; for ${qemu.join(", ")} (QEMU): qemu user-net forward — the generator sent to the host port QEMU forwards to the guest (slirp inside the QEMU process, whose CPU it costs)`;
}

/** The server column of the deployment table: the container, or QEMU and its acceleration. */
function serverCell(v: VariantResult): string {
  if (v.provenance.isolation === "qemu") return `${isolationText(v)}, accel ${v.provenance.accel ?? "unknown"}${isEmulated(v) ? " (software emulation)" : ""}`;
  return v.container?.name ?? DASH;
}

/** What docker-proxy cost during the measured runs, measured (not assumed) on either path. */
export function proxyCost(r: BenchResults): string {
  const runs = r.variants.flatMap((v) => v.runs);
  const measured = runs.filter((run) => run.proxyCpuSeconds !== null);
  if (measured.length === 0) return "No docker-proxy relayed the measured ports during the runs.";
  const cpu = measured.reduce((sum, run) => sum + (run.proxyCpuSeconds ?? 0), 0);
  const seconds = measured.reduce((sum, run) => sum + run.durationSeconds, 0);
  return `docker-proxy used ${cpu.toFixed(2)} CPU-seconds over ${num(seconds)} s of measured load (${(seconds === 0 ? 0 : cpu / seconds).toFixed(2)} cores on average).`;
}

/** "⚠️ skipped: kraft not found", not "⚠️ skipped: skipped: kraft not found" when the stack's text already says it. */
function statusCell(v: VariantResult): string {
  if (v.detail === null) return STATUS_TEXT[v.status];
  const [icon] = STATUS_TEXT[v.status].split(" ");
  return v.detail.toLowerCase().startsWith(v.status) ? `${icon} ${v.detail}` : `${STATUS_TEXT[v.status]}: ${v.detail}`;
}

function deployment(a: Analysis): string {
  const rows = a.results.variants.map((v) => [
    variantLabel(a, v),
    statusCell(v) + (v.notMeasurable === null ? "" : " — ⚠️ not measurable here"),
    v.runtime ?? DASH,
    v.url ?? DASH,
    `${budgetText(v.budget.cpus, v.budget.memoryMb)}${v.budget.source === "container" ? " (enforced)" : ""}${v.enforced === null ? "" : v.enforced.cpuset === "" ? ", any core" : `, cores ${v.enforced.cpuset}`}`,
    serverCell(v),
    v.networkPath ?? DASH,
  ]);
  const warnings = a.results.variants.flatMap((v) => [...v.warnings, ...(v.notMeasurable === null ? [] : [v.notMeasurable])].map((w) => `- ${v.name}: ${w}`));
  return ["## Deployment", "", table(["Variant", "Status", "Runtime", "URL", "Limits", "Container / process", "Network path"], rows), ...(warnings.length ? ["", ...warnings] : [])].join("\n");
}

function throughput(a: Analysis, chart?: string): string {
  const out = ["## Throughput (successful req/s)", ""];
  if (chart) out.push(`![Throughput per endpoint](${chart})`, "");
  for (const endpoint of a.endpoints) {
    const cells = a.measured.map((v) => ({ v, c: a.cell(v.name, endpoint) })).filter((x) => x.c !== undefined);
    const max = Math.max(...cells.map((x) => x.c?.figures.rps.median ?? 0));
    const labels = cells.map(({ v }) => `${variantTitle(v)} (${budgetText(v.budget.cpus, null)})`);
    const width = Math.max(...labels.map((l) => l.length));
    const values = cells.map(({ c }) => num(c?.figures.rps.median));
    const valueWidth = Math.max(...values.map((s) => s.length));
    // Spread between repetitions ((max − min) / median), when there are several.
    const spreads = cells.map(({ c }) => (c && c.figures.repetitions > 1 ? ` spread ${percent(c.figures.rps.spread, 0)}` : ""));
    const spreadWidth = Math.max(...spreads.map((s) => s.length));
    const lines = cells.map(({ v, c }, i) => {
      const f = c?.figures;
      const rel = `(${versusBaseline(a, v, c?.relative.rps ?? null)})`;
      const flags = c?.unsound == null ? "" : ` ⚠️ ${c.unsound}`;
      return `${labels[i].padEnd(width)}  ${values[i].padStart(valueWidth)} req/s${spreads[i].padEnd(spreadWidth)}  ${bar(f?.rps.median ?? 0, max).padEnd(28)} ${rel}${flags}`;
    });
    out.push(`### \`${endpoint}\``, "", "```", ...lines, "```", "");
  }
  return out.join("\n").trimEnd();
}

function latency(a: Analysis, chart?: string): string {
  const rows = a.endpoints.flatMap((endpoint) =>
    a.measured.flatMap((v) => {
      const f = a.cell(v.name, endpoint)?.figures;
      if (f === undefined) return [];
      const l = f.latencyMs;
      return [[`\`${endpoint}\``, variantTitle(v), num(l.p50), num(l.p90), num(l.p99), num(l.max), percent(f.errorRate, 2), num(f.bytesPerSecond / 1024 / 1024), verdictCell(a, v.name, endpoint)]];
    }),
  );
  return [
    "## Latency (ms) and errors",
    "",
    ...(chart ? [`![Latency percentiles](${chart})`, ""] : []),
    table(["Endpoint", "Variant", "p50", "p90", "p99", "max", "errors", "MiB/s", "Runs"], rows),
    "",
    "Percentiles come from the load engine's latency histogram (median over repetitions; max is the highest seen). " +
      "Errors count connection errors, timeouts and responses with status ≥ 400.",
  ].join("\n");
}

/** "server-bound" or why the cell's figure is not used for conclusions (host-bound, partial, not measurable here). */
function verdictCell(a: Analysis, variant: string, endpoint: string): string {
  const c = a.cell(variant, endpoint);
  if (c === undefined) return DASH;
  return c.unsound === null ? `server-bound (${c.basis})` : `⚠️ ${c.unsound}`;
}

const withRatio = (value: number | null, ratio: number | null) => (value === null ? DASH : ratio === null ? num(value) : `${num(value)} (${times(ratio)})`);

function efficiencyTable(a: Analysis, chart?: string): string {
  const rows = a.endpoints.flatMap((endpoint) =>
    a.measured.flatMap((v) => {
      const c = a.cell(v.name, endpoint);
      if (c === undefined) return [];
      const f = c.figures;
      const avgCores = f.serverCpuSeconds === null || f.durationSeconds === 0 ? null : f.serverCpuSeconds / f.durationSeconds;
      return [[
        `\`${endpoint}\``,
        variantTitle(v),
        withRatio(c.efficiency.rpsPerCpu, c.relative.rpsPerCpu),
        withRatio(c.efficiency.rpsPerGb, c.relative.rpsPerGb),
        withRatio(c.efficiency.requestsPerCpuSecond, c.relative.requestsPerCpuSecond),
        avgCores === null ? DASH : `${num(avgCores)} of ${v.budget.cpus ?? "?"}`,
        f.peakMemoryMb === null ? DASH : `${num(f.peakMemoryMb)} MiB`,
        verdictCell(a, v.name, endpoint),
      ]];
    }),
  );
  return [
    "## Efficiency",
    "",
    ...(chart ? [`![Efficiency relative to the baseline](${chart})`, ""] : []),
    table(["Endpoint", "Variant", "req/s per CPU", "req/s per GiB", "req per CPU-second used", "CPUs used (avg)", "Peak memory", "Runs"], rows),
    "",
    `In brackets: ratio to the baseline (${a.baseline}) on the same endpoint. Per CPU and per GiB divide by the limits the engine enforces (the CPU quota capped by the cpuset's cores); ` +
      "per CPU-second divides by the CPU time the container actually used (its cgroup CPU counter), so it shows the cost of a request whatever the budget. " +
      "A QEMU variant's budget is its guest (vCPUs, guest memory: per GiB divides by the guest's MiB) and its CPU-seconds and peak memory are the QEMU process's (utime + stime, highest sampled VmRSS); " +
      "an emulated (TCG) one gets no ratio to a native baseline.",
  ].join("\n");
}

function energy(a: Analysis): string {
  const { settings, provenance } = a.results;
  const label =
    provenance.energySource === "rapl"
      ? "**Measured (RAPL package counters):** energy of the whole CPU package during each run, so the load generator and everything else on the host are included."
      : `**Estimate (no RAPL on this host):** container CPU-seconds × ${settings.wattsPerCore} W per busy core (\`--watts-per-core\`). ` +
        "It leaves out idle power, memory, the network path and the load generator; use it to compare variants, not as a wattmeter reading.";
  const rows = a.endpoints.map((endpoint) => [`\`${endpoint}\``, ...a.measured.map((v) => num(a.cell(v.name, endpoint)?.energy.joulesPer1000 ?? null))]);
  return ["## Energy per 1,000 requests (J)", "", label, "", table(["Endpoint", ...a.measured.map(variantTitle)], rows)].join("\n");
}

function stress(a: Analysis, chart?: string): string {
  const { stress: limits } = a.results.settings;
  const rows = a.measured.flatMap((v) =>
    variantStressOutcomes(v, limits).map((o) => [
      variantTitle(v),
      `\`${o.endpoint}\``,
      o.held === null ? DASH : String(o.held.connections),
      o.held === null ? DASH : num(o.held.rps),
      o.broke === null ? "not reached" : String(o.broke.connections),
      o.broke?.reason ?? DASH,
      num(o.peakRps),
    ]),
  );
  return [
    "## Stress: where each variant breaks",
    "",
    `A step breaks when its error rate passes ${percent(limits.maxErrorRate)} or its p99 passes ${limits.maxP99Ms} ms.`,
    "",
    ...(chart ? [`![Throughput against concurrency](${chart})`, ""] : []),
    table(["Variant", "Endpoint", "Held up to (connections)", "req/s there", "Broke at", "Why", "Peak req/s"], rows),
  ].join("\n");
}

function bottlenecks(a: Analysis): string {
  const rows = a.measured.flatMap((v) => {
    const fastest = fastestReference(v.runs);
    return v.runs.map((r) => [variantTitle(v), `\`${r.endpoint}\``, String(r.connections), `${r.bottleneck.verdict}${r.partial ? " (partial run)" : ""}`, r.bottleneck.reason, machineCell(r, fastest)]);
  });
  return [
    "## What limited each run",
    "",
    "`server`: the container used its CPU budget (the figure is the server's). `client`: the load generator saturated its cores first. " +
      "`host`: every host core was busy (load generator, docker-proxy, server and any other process share the machine). `unsaturated`: nothing was saturated; the figure reflects concurrency and latency.",
    "",
    table(["Variant", "Endpoint", "Connections", "Limited by", "Evidence", "Machine: steal / others / reference"], rows),
    "",
    `Machine: the share of CPU time the hypervisor stole during the run (/proc/stat), the share of the variant's own cores used by other processes during it (per-core /proc/stat minus the server's CPU; — when the variant shares its cores), and the time of a fixed reference workload (${REFERENCE_ROUNDS.toLocaleString("en")} SHA-256 of 1 KiB) on the variant's cores just before it. ` +
      `⚠️ marks a run during which the machine moved: over ${percent(STEAL_BOUND, 0)} steal, over ${percent(OTHERS_BOUND, 0)} of its cores used by others, or a reference more than ${percent(REFERENCE_BOUND, 0)} slower than the session's fastest; its req/s may be the machine's, not the server's.`,
  ].join("\n");
}

/** "0.0 % / 1.2 % / 112 ms", with the reason when the machine moved during the run. */
function machineCell(r: RunResult, fastest: number | null): string {
  const flag = machineFlag(r, fastest);
  const share = (x: number | null) => (x === null ? DASH : percent(x, 1));
  const text = `${share(r.hostSteal)} / ${share(r.hostOthers)} / ${r.referenceMs === null ? DASH : `${r.referenceMs.toFixed(0)} ms`}`;
  return flag.reason === null ? text : `${text} ⚠️ ${flag.reason}`;
}

function statsSources(a: Analysis): string {
  const names = { cgroup: "the container's cgroup files", engine: "the Docker engine's stats API", process: "the QEMU process's /proc/<pid>/stat (utime + stime) and status (VmRSS)" };
  const used = a.results.variants.filter((v) => v.statsSource !== null).map((v) => `${v.name}: ${names[v.statsSource ?? "engine"]}`);
  return used.length === 0 ? "no container (no server figures)" : used.join("; ");
}

function method(a: Analysis): string {
  const { provenance: p, settings: s } = a.results;
  const m = p.machine;
  const tools = Object.entries(p.tools).map(([k, v]) => `${k} ${v}`).join(", ");
  const paths = a.results.variants.filter((v) => v.networkPath !== null).map((v) => `- ${variantTitle(v)}: ${v.networkPath}`);
  const emulated = a.results.variants.filter(isEmulated).map((v) => v.name);
  return [
    "## How this was measured",
    "",
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${Math.round(m.memoryMb / 1024)} GB RAM, ${m.os} (kernel ${m.kernel}). The load generator runs on the same machine as the servers.`,
    `- Tools: ${tools}.`,
    `- Variants ran one after another, never at once; ${s.repetitions} repetition${s.repetitions === 1 ? "" : "s"}, interleaved across variants; a ${s.warmupSeconds} s warm-up preceded every measured run.`,
    `- Server CPU-seconds: difference of the container's cumulative CPU counter (the one \`docker stats\` reports) at the start and end of each measured run; ` +
      `peak memory: highest reading, every ${s.sampleIntervalMs} ms, page cache excluded. Read from ${statsSources(a)}.`,
    `- Request timeout ${s.timeoutSeconds} s. Command: \`${p.command}\``,
    `- Measuring path: ${s.path}. ${proxyCost(a.results)}`,
    "- Conclusions use only server-bound, whole runs of variants the generator could be kept apart from; each names its runs and their spread ((max − min) / median), and a difference is not established when the spread exceeds 10 %.",
    ...(emulated.length === 0
      ? []
      : [`- Emulated: ${emulated.join(", ")} ran under QEMU's TCG software emulation (no KVM), many times slower than native; its figures are shown, marked, and never compared for speed with native variants.`]),
    "- Network path per variant:",
    ...paths.map((line) => `  ${line}`),
  ].join("\n");
}

export function renderReport(results: BenchResults, charts: ChartLinks = {}): string {
  const a = analyze(results);
  const sections = [header(results), deployment(a)];
  if (a.measured.length > 0) {
    sections.push(ladderSection(a, charts.ladder), throughput(a, charts.throughput));
    if (results.settings.mode === "stress") sections.push(stress(a, charts.stress));
    sections.push(latency(a, charts.latency), efficiencyTable(a, charts.efficiency), energy(a), bottlenecks(a));
  }
  sections.push(["## Conclusions", "", ...conclusions(a).map((c, i) => `${i + 1}. ${c}`)].join("\n"), method(a));
  return `${sections.join("\n\n")}\n`;
}
