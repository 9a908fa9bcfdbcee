import cluster from "cluster";
import { clusterMetricsFetcher, serveAggregatedMetrics } from "./clusterMetrics";
import { AppConfig, EnvError, parseEnv } from "./config";
import { Drainable } from "./drain";
import { RequestMetrics } from "./metrics";
import { detectWorkerCount } from "./workers";

/**
 * The process model both servers share: one process per whole CPU of the quota, a cluster primary
 * that forks them, restarts crashed ones, sums their metrics and relays SIGTERM. node:cluster and
 * prom-client's cluster aggregator work the same under Bun (its workers bind with `reusePort`).
 */

/** How the primary tells its workers how many they are (for the info metric). */
const WORKERS_ENV = "OPTIVOLT_WORKER_COUNT";
/** A worker's IPC message once it accepts connections (Bun.serve emits no cluster "listening"). */
const LISTENING = "optivolt:listening";
/** The primary's drain messages (see drain.ts): phase 1, then phase 2 once every worker is through phase 1. */
const STOP_ACCEPTING = "optivolt:stop-accepting";
const NOT_ACCEPTING = "optivolt:not-accepting";
const CLOSE_CONNECTIONS = "optivolt:close-connections";
/** How long the primary waits for every worker to finish phase 1 before starting phase 2 anyway. */
const PHASE_ONE_TIMEOUT_MS = 3000;

const isMessage = (message: unknown, type: string) =>
  typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;

export function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, message, ...fields })}\n`);
}

/** Exits once a signal-time deadline has passed, whatever is still open. */
export function exitAfter(ms: number, reason: string): void {
  setTimeout(() => {
    log(`shutdown: ${reason} after ${ms} ms, exiting`);
    process.exit(0);
  }, ms).unref();
}

/** What a server process gets: its config, the metrics it counts into and how to read the totals. */
export interface ServerProcess {
  config: AppConfig;
  workers: number;
  metrics: RequestMetrics;
  metricsText: () => Promise<string>;
  /** Call once the server accepts connections. */
  listening(): void;
  /** Call when the port cannot be bound: says which setting to change, exits 1. */
  cannotListen(error: Error): never;
  /** Call once: runs the drain phases on SIGTERM/SIGINT, or when the primary says so. */
  drainOnStop(server: Drainable): void;
}

/** Runs `serve` in every process that should serve HTTP, with this process's metrics wired. */
export function runServerProcesses(serve: (server: ServerProcess) => void): void {
  let config: AppConfig;
  try {
    config = parseEnv(process.env);
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  if (cluster.isWorker) {
    serve(serverProcess(config, Number(process.env[WORKERS_ENV])));
    return;
  }
  const workers = detectWorkerCount(config.workers);
  // One process: serve here, no primary to hold memory.
  if (workers === 1) serve(serverProcess(config, 1));
  else runPrimary(config, workers);
}

function serverProcess(config: AppConfig, workers: number): ServerProcess {
  const metrics = new RequestMetrics(config.variant, workers);
  return {
    config,
    workers,
    metrics,
    metricsText: cluster.isWorker ? clusterMetricsFetcher(metrics.registry) : () => metrics.registry.metrics(),
    listening() {
      if (cluster.isWorker) process.send?.({ type: LISTENING });
      else log("listening", { port: config.port, variant: config.variant, workers });
    },
    cannotListen(error) {
      process.stderr.write(`Cannot listen on ${config.host}:${config.port} (PORT/HOST): ${error.message}\n`);
      process.exit(1);
    },
    drainOnStop(server) {
      let phase = 0;
      const stopAccepting = async () => {
        if (phase >= 1) return;
        phase = 1;
        if (!cluster.isWorker) log("shutdown: no new connections, draining the open ones");
        exitAfter(config.shutdownTimeoutMs, "in-flight requests still open");
        await server.stopAccepting();
      };
      const closeConnections = () => {
        if (phase >= 2) return;
        phase = 2;
        server.closeConnections();
      };
      // A signal to this very process (the only one, or a worker stopped on its own): both phases.
      const stopHere = () => void stopAccepting().then(closeConnections);
      process.on("SIGTERM", stopHere);
      process.on("SIGINT", stopHere);
      if (cluster.isWorker) {
        process.on("message", (message: unknown) => {
          if (isMessage(message, STOP_ACCEPTING)) void stopAccepting().then(() => process.send?.({ type: NOT_ACCEPTING }));
          else if (isMessage(message, CLOSE_CONNECTIONS)) closeConnections();
        });
      }
    },
  };
}

/** Cluster primary: forks the workers, restarts crashed ones, aggregates metrics, relays SIGTERM. */
function runPrimary(config: AppConfig, workers: number): void {
  serveAggregatedMetrics();
  const fork = () => cluster.fork({ [WORKERS_ENV]: String(workers) });
  let stopping = false;
  const listening = new Set<number>();
  cluster.on("message", (worker, message: unknown) => {
    if (!isMessage(message, LISTENING)) return;
    listening.add(worker.id);
    if (listening.size === workers) log("listening", { port: config.port, variant: config.variant, workers });
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!listening.has(worker.id)) {
      // Failing before it ever listened (bad port, ...) would fail again: give up instead of looping.
      process.stderr.write(`A worker exited during start-up (code ${code}, signal ${signal}); stopping.\n`);
      process.exit(1);
    }
    listening.delete(worker.id);
    log("worker died, starting another", { worker: worker.process.pid, code, signal });
    fork();
  });
  // The drain's phase 2 starts once no worker accepts connections any more (see drain.ts).
  const notAccepting = new Set<number>();
  let closing = false;
  const closeConnections = () => {
    if (closing) return;
    closing = true;
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send({ type: CLOSE_CONNECTIONS });
  };
  cluster.on("message", (worker, message: unknown) => {
    if (!isMessage(message, NOT_ACCEPTING)) return;
    notAccepting.add(worker.id);
    if (Object.keys(cluster.workers ?? {}).every((id) => notAccepting.has(Number(id)))) closeConnections();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log("shutdown: no new connections, draining the open ones", { workers: Object.keys(cluster.workers ?? {}).length });
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send({ type: STOP_ACCEPTING });
    setTimeout(closeConnections, PHASE_ONE_TIMEOUT_MS).unref();
    exitAfter(config.shutdownTimeoutMs + 1000, "workers still running");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let i = 0; i < workers; i++) fork();
}
