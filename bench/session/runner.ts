/** Runs the measurements: variants strictly one after another, a warm-up before every run. */
import * as os from "os";
import { classifyBottleneck } from "../numbers/bottleneck";
import { aggregateRuns, errorRate, successRps } from "../numbers/figures";
import { PreparedVariant } from "../reach/prepare";
import { hostCpuTimes, hostShares, othersShare, processCpuSeconds } from "../counters/proc";
import { variantOwnCores } from "../reach/cores";
import { Progress } from "./progress";
import { raplZones, startRaplReading } from "../counters/rapl";
import { referenceWorkloadMs } from "../counters/reference";
import { ServerUsage, startServerSampling } from "../counters/sampler";
import { BenchSettings, RunResult } from "../schema";
import { stressBreach, stressLadder } from "../numbers/stress";

export interface RunnerContext {
  settings: BenchSettings;
  progress: Progress;
  /** Aborted on SIGINT: the current run stops early and nothing new starts. */
  signal: AbortSignal;
}

const BOUND_LABEL: Record<RunResult["bottleneck"]["verdict"], string> = {
  server: "server-bound",
  client: "client-bound",
  host: "host-bound",
  unsaturated: "unsaturated",
  unknown: "bottleneck unknown",
};

interface Plan {
  endpoint: string;
  connections: number;
  step: number;
  repetition: number;
}

/** The variant's container stopped during a run; the message says which and when. */
class ContainerStopped extends Error {}

/** How often a run checks that its container still runs (a dead one ends the run at once). */
const LIVENESS_MS = 1000;

/**
 * Runs the load with the container sampled around it; the sampler never outlives a failed run.
 * The load's signal fires on Ctrl-C and when the container dies; a death surfaces as
 * ContainerStopped ("`standard` exited (OOM-killed) during /api/heavy"), not as the raw error
 * it causes (a vanished cgroup file, refused connections).
 */
async function sampled<T>(ctx: RunnerContext, variant: PreparedVariant, endpoint: string, load: (signal: AbortSignal) => Promise<T>): Promise<{ outcome: T; usage: ServerUsage | null }> {
  const run = new AbortController();
  const relay = () => run.abort();
  ctx.signal.addEventListener("abort", relay, { once: true });
  if (ctx.signal.aborted) run.abort();
  let died: string | null = null;
  const watch = setInterval(() => {
    variant.stopped().then(
      (stopped) => {
        if (stopped !== null && died === null) {
          died = stopped;
          run.abort();
        }
      },
      () => undefined,
    );
  }, LIVENESS_MS);
  let sampling: Awaited<ReturnType<typeof startServerSampling>> | null = null;
  try {
    sampling = variant.counters === null ? null : await startServerSampling(variant.counters, ctx.settings.sampleIntervalMs);
    const outcome = await load(run.signal);
    const usage = sampling === null ? null : await sampling.stop();
    sampling = null;
    if (died !== null) throw new ContainerStopped(`\`${variant.result.name}\` ${died} during ${endpoint}`);
    return { outcome, usage };
  } catch (err) {
    await sampling?.stop().catch(() => undefined);
    if (err instanceof ContainerStopped) throw err;
    const stopped = died ?? (await variant.stopped().catch(() => null));
    if (stopped !== null) throw new ContainerStopped(`\`${variant.result.name}\` ${stopped} during ${endpoint}`);
    throw err;
  } finally {
    clearInterval(watch);
    ctx.signal.removeEventListener("abort", relay);
  }
}

/** The variant's generator and URL, set by the measuring path before any run. */
function loadOf(variant: PreparedVariant) {
  if (variant.load === null) throw new Error(`${variant.result.name} has no load generator attached`);
  return variant.load;
}

/** Runs one variant gets: endpoints × stress steps (quick/full: one step). */
export function runsPerRepetition(settings: Pick<BenchSettings, "mode" | "endpoints" | "connections" | "stress">): number {
  const steps = settings.mode === "stress" ? stressLadder(settings.connections, settings.stress.maxConnections).length : 1;
  return settings.endpoints.length * steps;
}

/** Seconds one run takes as planned: its warm-up and its measured part. */
export const plannedRunSeconds = (settings: Pick<BenchSettings, "warmupSeconds" | "durationSeconds">) => settings.warmupSeconds + settings.durationSeconds;

function loadRequest(ctx: RunnerContext, variant: PreparedVariant, plan: Plan, seconds: number, signal: AbortSignal) {
  const { settings } = ctx;
  return {
    url: `${loadOf(variant).url}${plan.endpoint}`,
    connections: plan.connections,
    threads: Math.min(settings.threads, plan.connections),
    durationSeconds: seconds,
    timeoutSeconds: settings.timeoutSeconds,
    signal,
  };
}

/**
 * Starts the host's CPU readings for a measured run; the returned function closes them: the shares
 * of all cores (busy, interrupts, steal) and, given the server's usage, the share of the variant's
 * own cores that went to anything else (null when it has none of its own).
 */
function startHostReading(variant: PreparedVariant, variantCpuset: string) {
  const before = hostCpuTimes();
  const startedAt = performance.now();
  const ownCores = variantOwnCores(variantCpuset, variant.result.generator?.cpuset ?? null, os.cpus().length);
  return () => {
    const after = hostCpuTimes();
    const wallSeconds = (performance.now() - startedAt) / 1000;
    return {
      host: hostShares(before?.all ?? null, after?.all ?? null),
      others: (server: ServerUsage | null) =>
        ownCores === null || server === null || before === null || after === null ? null : othersShare(before.perCoreBusy, after.perCoreBusy, ownCores, server.cpuSeconds, wallSeconds),
    };
  };
}

/** Warm-up (unmeasured) then one measured run; null when interrupted before the measured part began. */
async function measure(ctx: RunnerContext, variant: PreparedVariant, plan: Plan): Promise<RunResult | null> {
  const { settings, progress } = ctx;
  const { engine } = loadOf(variant);
  const label = `${variant.result.name} ${plan.endpoint} c=${plan.connections}${settings.repetitions > 1 ? ` rep ${plan.repetition + 1}` : ""}`;

  // The machine's own speed on the variant's cores, while the server idles between runs.
  const variantCpuset = variant.result.enforced?.cpuset ?? variant.qemu?.cpuset ?? "";
  const referenceMs = await referenceWorkloadMs(variantCpuset);
  let warmupCpuSeconds: number | null = null;
  if (settings.warmupSeconds > 0) {
    progress.runStarted(`${label} warm-up`, settings.warmupSeconds);
    const warm = await sampled(ctx, variant, plan.endpoint, (signal) => engine.run(loadRequest(ctx, variant, plan, settings.warmupSeconds, signal)));
    warmupCpuSeconds = warm.usage?.cpuSeconds ?? null;
  }
  if (ctx.signal.aborted) return null;

  progress.runStarted(label, settings.durationSeconds);
  const proxyBefore = variant.proxyPid === null ? null : processCpuSeconds(variant.proxyPid);
  const host = startHostReading(variant, variantCpuset);
  const rapl = startRaplReading(raplZones());
  const { outcome, usage: serverUsage } = await sampled(ctx, variant, plan.endpoint, async (signal) => {
    const result = await engine.run(loadRequest(ctx, variant, plan, settings.durationSeconds, signal));
    // Host, proxy and RAPL figures close with the load, before the sampler's last reading.
    return { result, raplJoules: rapl(), ...host(), proxyAfter: variant.proxyPid === null ? null : processCpuSeconds(variant.proxyPid) };
  });
  const { raplJoules, proxyAfter } = outcome;
  const hostOthers = outcome.others(serverUsage);
  const hostBusy = outcome.host?.busy ?? null;
  const hostInterrupts = outcome.host?.interrupts ?? null;
  const hostSteal = outcome.host?.steal ?? null;
  const proxyCpuSeconds = proxyBefore === null || proxyAfter === null ? null : Math.max(0, proxyAfter - proxyBefore);

  const run: RunResult = {
    endpoint: plan.endpoint,
    repetition: plan.repetition,
    step: plan.step,
    connections: plan.connections,
    durationSeconds: outcome.result.durationSeconds,
    responses: outcome.result.responses,
    bytes: outcome.result.bytes,
    latencyMs: outcome.result.latencyMs,
    errors: outcome.result.errors,
    server: serverUsage,
    warmupCpuSeconds,
    client: { engine: engine.name, cpuSeconds: outcome.result.clientCpuSeconds, cores: outcome.result.clientCores },
    proxyCpuSeconds,
    hostBusy,
    hostInterrupts,
    hostSteal,
    hostOthers,
    referenceMs,
    raplJoules,
    bottleneck: classifyBottleneck({
      durationSeconds: outcome.result.durationSeconds,
      serverCpuSeconds: serverUsage?.cpuSeconds ?? null,
      budgetCpus: variant.result.budget.cpus,
      clientCpuSeconds: outcome.result.clientCpuSeconds,
      clientCores: outcome.result.clientCores,
      hostBusy,
      hostInterrupts,
      hostCores: os.cpus().length,
      proxyCpuSeconds,
    }),
    partial: outcome.result.partial,
  };
  const server = variant.qemu === null ? "server" : "QEMU";
  const cpu = serverUsage === null ? "" : `, ${server} ${serverUsage.cpuSeconds.toFixed(2)} CPU-s, peak ${serverUsage.peakMemoryMb.toFixed(0)} MiB`;
  const proxy = proxyCpuSeconds === null ? "" : `, docker-proxy ${proxyCpuSeconds.toFixed(2)} CPU-s`;
  const others = hostOthers === null ? "" : `, others ${(hostOthers * 100).toFixed(1)} % of its cores`;
  const machine = `, steal ${hostSteal === null ? "?" : (hostSteal * 100).toFixed(1)} %${others}, reference ${referenceMs === null ? "?" : referenceMs.toFixed(0)} ms`;
  const marks = [BOUND_LABEL[run.bottleneck.verdict], ...(run.partial ? ["partial"] : []), ...(variant.result.notMeasurable === null ? [] : ["not measurable here"])];
  progress.runFinished(
    `${label}: ${successRps(run).toFixed(1)} req/s, p99 ${run.latencyMs.p99.toFixed(1)} ms, errors ${(errorRate(run) * 100).toFixed(2)} %${cpu}${proxy}${machine} [${marks.join(", ")}]`,
  );
  return run;
}

/** All runs of one variant for one repetition; a failure marks the variant failed and moves on. */
async function measureVariant(ctx: RunnerContext, variant: PreparedVariant, repetition: number): Promise<void> {
  const { settings } = ctx;
  const ladder = settings.mode === "stress" ? stressLadder(settings.connections, settings.stress.maxConnections) : [settings.connections];
  const perRun = plannedRunSeconds(settings);
  let started = 0;
  let endpointNow = settings.endpoints[0];
  try {
    for (const endpoint of settings.endpoints) {
      endpointNow = endpoint;
      for (const [step, connections] of ladder.entries()) {
        const run = ctx.signal.aborted ? null : await measure(ctx, variant, { endpoint, connections, step, repetition });
        if (run === null) return;
        started += 1;
        // A container that died during the run leaves figures of a dead server: report the death instead.
        const stopped = await variant.stopped().catch(() => null);
        if (stopped !== null) throw new ContainerStopped(`\`${variant.result.name}\` ${stopped} during ${endpoint}`);
        variant.result.runs.push(run);
        if (settings.mode === "stress") {
          const [figures] = aggregateRuns({ runs: [run] });
          const breach = stressBreach(figures, settings.stress);
          if (breach !== null) {
            ctx.progress.note(`${variant.result.name} ${endpoint} breaks at ${connections} connections: ${breach}`);
            ctx.progress.skip((ladder.length - step - 1) * perRun);
            started += ladder.length - step - 1;
            break;
          }
        }
      }
    }
  } catch (err) {
    // A run that fails because the container died says so, not with the raw error it caused
    // (a vanished cgroup file, refused connections).
    const stopped = err instanceof ContainerStopped ? null : await variant.stopped().catch(() => null);
    const died = err instanceof ContainerStopped ? err.message : stopped === null ? null : `\`${variant.result.name}\` ${stopped} during ${endpointNow}`;
    const message = died ?? (err as Error).message;
    variant.result.status = "failed";
    variant.result.detail = message;
    ctx.progress.note(died ?? `${variant.result.name} failed: ${message}`);
    ctx.progress.skip(Math.max(0, (runsPerRepetition(settings) - started - 1) * perRun + perRun * runsPerRepetition(settings) * (settings.repetitions - repetition - 1)));
  }
}

/**
 * Repetitions are interleaved (rep 1 of every variant, then rep 2...), so slow drift on a shared
 * machine spreads over all variants instead of biasing the last one.
 */
export async function runAll(ctx: RunnerContext, variants: readonly PreparedVariant[]): Promise<void> {
  for (let repetition = 0; repetition < ctx.settings.repetitions; repetition++) {
    for (const variant of variants) {
      if (variant.result.status !== "measured") continue;
      if (ctx.signal.aborted) break;
      await measureVariant(ctx, variant, repetition);
    }
  }
  // Variants never reached because of an interrupt were not measured at all.
  for (const variant of variants) {
    if (variant.result.status === "measured" && variant.result.runs.length === 0) {
      variant.result.status = "not-run";
      variant.result.detail = "interrupted before this variant ran";
    }
  }
}
