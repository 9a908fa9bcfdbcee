/** The CLI's session: resolve targets, pick the measuring path, prepare the variants, then one bench session. */
import { planHeader } from "../report/tables";
import { DockerEngine } from "../counters/docker";
import { createAutocannonEngine } from "../engines/autocannon";
import { LoadEngine } from "../engines/types";
import { createWrkEngine, findOnPath } from "../engines/wrk";
import { BenchError, UsageError } from "../errors";
import { describeMachine } from "../counters/machine";
import { WrittenFiles } from "../report/output";
import { MeasuringPath, namespacePath, publishedPath } from "../reach/paths";
import { prepareVariant, PreparedVariant } from "../reach/prepare";
import { createProgress, Progress } from "../session/progress";
import { runSession } from "../session/session";
import { BenchResults, BenchSettings } from "../schema";
import { stackTargets } from "../reach/stack";
import { swarmPath } from "../reach/swarmPath";
import { Target } from "../reach/targets";
import { floorsConfig, memoryFloorOf, runtimeOf } from "../reach/floors";
import { describeUserlandProxy, userlandProxyState } from "../reach/userlandProxy";
import { BenchOptions } from "./args";

export interface BenchOutcome {
  results: BenchResults;
  files: WrittenFiles;
  /** 0 all measured; 1 some variant unreachable, refused or failed; 130 interrupted. */
  exitCode: number;
}

async function chooseHostEngine(choice: BenchOptions["engine"]): Promise<LoadEngine> {
  const wrk = findOnPath("wrk");
  if (choice === "wrk" && wrk === null) throw new BenchError("--engine wrk: wrk is not on the PATH; install it (apt-get install wrk) or use --engine autocannon.");
  if (choice !== "autocannon" && wrk !== null) return createWrkEngine(wrk);
  return createAutocannonEngine();
}

function selectTargets(all: Target[], options: BenchOptions): { targets: Target[]; baseline: string } {
  let targets = all;
  if (options.only !== null) {
    const unknown = options.only.filter((name) => !all.some((t) => t.name === name));
    if (unknown.length > 0) throw new UsageError(`--variants: no target named ${unknown.join(", ")}; known: ${all.map((t) => t.name).join(", ")}`);
    targets = all.filter((t) => options.only?.includes(t.name));
  }
  const baseline = options.baseline ?? targets.find((t) => t.skipped === null)?.name ?? targets[0].name;
  if (!targets.some((t) => t.name === baseline)) throw new UsageError(`--baseline ${baseline}: no such variant; known: ${targets.map((t) => t.name).join(", ")}`);
  return { targets, baseline };
}

async function choosePath(options: BenchOptions, docker: DockerEngine | null, hostCores: number): Promise<MeasuringPath> {
  if (options.path === "published") return publishedPath(await chooseHostEngine(options.engine));
  if (options.path === "swarm" && options.swarm !== null) return swarmPath({ ...options.swarm, image: options.generatorImage });
  return namespacePath({ docker, image: options.generatorImage, hostCores, suffix: String(process.pid) });
}

export async function runBench(options: BenchOptions, command: string, signal: AbortSignal, progress: Progress = createProgress()): Promise<BenchOutcome> {
  const startedAt = new Date().toISOString();
  const source = options.source.kind === "stack" ? `stack ${options.source.stack}` : "--target";
  const all = options.source.kind === "stack" ? await stackTargets(options.source.stack) : options.source.targets;
  const selected = selectTargets(all, options);
  const floors = floorsConfig(options.floors);
  const targets = selected.targets.map((t) => ({
    ...t,
    memoryFloor: memoryFloorOf(t.name, t.qemu?.guest ?? null, floors),
    runtime: t.runtime ?? (t.qemu === undefined ? runtimeOf(t.name, floors) : null),
  }));
  const { baseline } = selected;
  const docker = DockerEngine.local();
  const dockerVersion = docker === null ? null : await docker.version().catch(() => null);
  const engineDocker = dockerVersion === null ? null : docker;
  const machine = describeMachine();
  const path = await choosePath(options, engineDocker, machine.cores);

  const variants: PreparedVariant[] = [];
  for (const target of targets) variants.push(await prepareVariant(target, engineDocker, machine.cores));
  await path.attach(variants);

  const settings: BenchSettings = {
    mode: options.mode,
    engine: path.engine.name,
    endpoints: options.endpoints,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
    threads: path.engine.name === "wrk" ? options.threads : 1,
    repetitions: options.repetitions,
    timeoutSeconds: options.timeoutSeconds,
    sampleIntervalMs: options.sampleIntervalMs,
    baseline,
    path: path.name,
    wattsPerCore: options.wattsPerCore,
    stress: options.stress,
    source,
  };
  const tools: Record<string, string> = { node: process.version, [path.engine.name]: path.engine.version };
  if (dockerVersion !== null) tools["docker engine"] = dockerVersion;
  const userlandProxy = engineDocker === null ? { enabled: null, evidence: "no local Docker engine" } : userlandProxyState();

  const engineLine = `${path.engine.name} ${path.engine.version}; Docker ${dockerVersion ?? "not found"}, userland-proxy ${describeUserlandProxy(userlandProxy)}`;
  const header = (runs: number, plannedSeconds: number) =>
    planHeader({ settings, pathSummary: path.summary, engineLine, variants: variants.map((v) => v.result), runs, plannedSeconds });
  const provenance = { machine, tools, userlandProxy, command };
  const { results, files } = await runSession(
    { startedAt, settings, variants, provenance, outDir: options.outDir, chartOptions: { yMax: options.yMax }, header },
    signal,
    progress,
  );
  const troubled = results.variants.some((v) => v.status === "unreachable" || v.status === "refused" || v.status === "failed");
  return { results, files, exitCode: signal.aborted ? 130 : troubled ? 1 : 0 };
}
