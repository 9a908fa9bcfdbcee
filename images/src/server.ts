import cluster from "cluster";
import * as http from "http";
import { createHandler, fixedAnswers } from "./app";
import { clusterMetricsFetcher, serveAggregatedMetrics } from "./clusterMetrics";
import { AppConfig, EnvError, parseEnv } from "./config";
import { FastPath } from "./fastPath";
import { RequestMetrics } from "./metrics";
import { detectWorkerCount } from "./workers";

/** How the primary tells its workers how many they are (for the info metric). */
const WORKERS_ENV = "OPTIVOLT_WORKER_COUNT";

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, message, ...fields })}\n`);
}

/** Exits once every signal-time deadline has passed, whatever is still open. */
function exitAfter(ms: number, reason: string): void {
  setTimeout(() => {
    log(`shutdown: ${reason} after ${ms} ms, exiting`);
    process.exit(0);
  }, ms).unref();
}

/** Serves HTTP in this process (the only process, or one cluster worker). */
function runServer(config: AppConfig, workers: number): void {
  const metrics = new RequestMetrics(config.variant, workers);
  const metricsText = cluster.isWorker ? clusterMetricsFetcher(metrics.registry) : () => metrics.registry.metrics();
  const shutdown = { draining: false };
  const answers = fixedAnswers(config.variant, metrics);
  const server = http.createServer(createHandler({ config, metrics, metricsText, shutdown }, answers));
  const fastPath = new FastPath(server, { answers, shutdown });

  server.on("error", (error: NodeJS.ErrnoException) => {
    process.stderr.write(`Cannot listen on ${config.host}:${config.port} (PORT/HOST): ${error.message}\n`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    if (!cluster.isWorker) log("listening", { port: config.port, variant: config.variant, workers });
  });

  // SIGTERM: stop accepting, let in-flight requests finish, close each connection once it goes idle.
  const drain = () => {
    if (shutdown.draining) return;
    shutdown.draining = true;
    server.close(() => process.exit(0));
    const closeIdle = () => {
      fastPath.closeIdleConnections();
      server.closeIdleConnections();
    };
    closeIdle();
    setInterval(closeIdle, 50).unref();
    exitAfter(config.shutdownTimeoutMs, "in-flight requests still open");
  };
  process.on("SIGTERM", drain);
  process.on("SIGINT", drain);
}

/** Cluster primary: forks the workers, restarts crashed ones, aggregates metrics, relays SIGTERM. */
function runPrimary(config: AppConfig, workers: number): void {
  serveAggregatedMetrics();
  const fork = () => cluster.fork({ [WORKERS_ENV]: String(workers) });
  let stopping = false;
  const listening = new Set<number>();
  cluster.on("listening", (worker) => {
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
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    exitAfter(config.shutdownTimeoutMs + 1000, "workers still running");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let i = 0; i < workers; i++) fork();
}

function main(): void {
  let config: AppConfig;
  try {
    config = parseEnv(process.env);
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  if (cluster.isWorker) {
    runServer(config, Number(process.env[WORKERS_ENV]));
    return;
  }
  const workers = detectWorkerCount(config.workers);
  if (workers === 1) {
    // One worker: serve in this process, no primary to relay connections or hold memory.
    runServer(config, 1);
  } else {
    runPrimary(config, workers);
  }
}

main();
