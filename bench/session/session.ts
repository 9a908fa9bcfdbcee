/** One bench session: every run of the prepared variants, then results.json, charts and report.md (also after an interrupt). */
import { ChartOptions } from "../report/charts";
import { writeOutputs, WrittenFiles } from "../report/output";
import { PreparedVariant } from "../reach/prepare";
import { raplZones } from "../counters/rapl";
import { BenchResults, BenchSettings, Provenance, RESULTS_SCHEMA_VERSION } from "../schema";
import { Progress } from "./progress";
import { plannedRunSeconds, runAll, runsPerRepetition } from "./runner";

/** What a session measures, and where its files go; the CLI and every study fill one in. */
export interface SessionPlan {
  startedAt: string;
  settings: BenchSettings;
  /** Prepared and attached to their measuring path. */
  variants: PreparedVariant[];
  provenance: Omit<Provenance, "energySource">;
  outDir: string;
  chartOptions?: ChartOptions;
  /** The header shown before the first run, given the runs and seconds planned; none: the caller says what it runs. */
  header?: (runs: number, plannedSeconds: number) => readonly string[];
}

export interface SessionOutcome {
  results: BenchResults;
  files: WrittenFiles;
}

export async function runSession(plan: SessionPlan, signal: AbortSignal, progress: Progress): Promise<SessionOutcome> {
  const { settings, variants, provenance } = plan;
  const measuredCount = variants.filter((v) => v.result.status === "measured").length;
  const runs = measuredCount * runsPerRepetition(settings) * settings.repetitions;
  const plannedSeconds = runs * plannedRunSeconds(settings);
  if (plan.header !== undefined) progress.header(plan.header(runs, plannedSeconds));
  progress.begin(plannedSeconds, runs);
  await runAll({ settings, progress, signal }, variants);
  progress.stop();

  const results: BenchResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    startedAt: plan.startedAt,
    finishedAt: new Date().toISOString(),
    complete: !signal.aborted,
    settings,
    provenance: {
      machine: provenance.machine,
      tools: provenance.tools,
      energySource: raplZones().length > 0 ? "rapl" : "estimate",
      userlandProxy: provenance.userlandProxy,
      command: provenance.command,
    },
    variants: variants.map((v) => v.result),
  };
  return { results, files: await writeOutputs(plan.outDir, results, plan.chartOptions) };
}
