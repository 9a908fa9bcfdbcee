/**
 * `npm run bench:images -- [--rounds 3] [--duration 8] [--warmup 2] [--connections 50] [--out DIR]`
 *
 * The web API on each runtime against the references a user would compare it with, measured by
 * the bench CLI's own engine (wrk), sampler, runner and report:
 *  1. at one CPU each: the standard image on Node and on Bun, bare node:http, bare Bun.serve and
 *     FastAPI + Uvicorn; servers on the host network (no proxy in the path) pinned to CPU 0, wrk
 *     pinned to CPU 1; rounds alternate the servers (the runner interleaves repetitions) and every
 *     figure is the median over the rounds. Writes results.json, report.md and charts.
 *  2. the minimal image of each runtime at 0.5 CPU / 128 MB: `docker start` → first 200, then
 *     10 s of /api/light and /api/heavy at once with its working set sampled.
 * Then prints one table: req/s and requests per CPU-second of each, and every target of issue 12.
 */
import { execFile } from "child_process";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { DEFAULT_WATTS_PER_CORE, STRESS_DEFAULTS } from "../../cli/args";
import { analyze } from "../../numbers/analysis";
import { DockerEngine } from "../../counters/docker";
import { LoadOutcome } from "../../engines/types";
import { createWrkEngine, findOnPath } from "../../engines/wrk";
import { describeMachine } from "../../counters/machine";
import { publishedPath } from "../../reach/paths";
import { prepareVariant, PreparedVariant } from "../../reach/prepare";
import { createProgress } from "../../session/progress";
import { runSession } from "../../session/session";
import { startServerSampling } from "../../counters/sampler";
import { BenchSettings } from "../../schema";
import { Target } from "../../reach/targets";
import { userlandProxyState } from "../../reach/userlandProxy";
import { LOCAL_BASE_IMAGES } from "../../../model/naming";
import { LATENCY_BUCKETS } from "../../../images/src/metrics";
import { docker, imageExists, inspectContainer, requireDockerEngine } from "../../../tooling/docker";
import { MinimalFigures, renderSummary, SERVER_LABELS, SERVERS } from "./goals";
import { answersHealth, createServer, removeAllServers, Server, ServerSpec, startServer, stopServer } from "./servers";
import { buildWebApiImage } from "./webApiImages";

/** The bare servers and the FastAPI app this study measures the web API against. */
const FIXTURES_DIR = path.join(__dirname, "fixtures");
const FASTAPI_IMAGE = "ovimages-bench-fastapi";
const SERVER_CPU = "0";
const CLIENT_CPU = 1;
const ROUTES = ["/api/light", "/api/heavy"];
/** Connections on /api/heavy in the minimal load (500 KiB answers: a few keep 0.5 CPU busy). */
const MINIMAL_HEAVY_CONNECTIONS = 8;
const MINIMAL_LOAD_SECONDS = 10;
const STARTS = 5;

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  out: string;
}

function log(message: string): void {
  process.stderr.write(`[bench:images] ${message}\n`);
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "8" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "50" },
      out: { type: "string" },
    },
  });
  const int = (name: string, raw: string | undefined, min: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${raw}"`);
    return value;
  };
  return {
    rounds: int("rounds", values.rounds, 1),
    duration: int("duration", values.duration, 1),
    warmup: int("warmup", values.warmup, 0),
    connections: int("connections", values.connections, 1),
    out: values.out ?? path.join("bench-results", `images-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  };
}

/** Restricts this process (and the wrk it spawns) to one CPU with taskset. */
function pinSelfToCpu(cpu: number): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)], (error) =>
      error ? reject(new Error(`taskset failed (is util-linux installed?): ${error.message}`)) : resolve(),
    ),
  );
}

/** The one-CPU servers of phase 1, each on its own host port. */
function throughputServers(images: { node: string; bun: string }): ServerSpec[] {
  const oneCpu = { cpus: 1, cpuset: SERVER_CPU, memoryMb: 512 };
  const scripts = `${FIXTURES_DIR}:/srv:ro`;
  return [
    { ...oneCpu, name: SERVERS.node, runtime: "node", port: 18701, image: images.node },
    { ...oneCpu, name: SERVERS.bun, runtime: "bun", port: 18702, image: images.bun },
    { ...oneCpu, name: SERVERS.bareNode, runtime: "node", port: 18703, image: LOCAL_BASE_IMAGES.nodeImage, mounts: [scripts], command: ["node", "/srv/bare-server.js"] },
    { ...oneCpu, name: SERVERS.bareBun, runtime: "bun", port: 18704, image: LOCAL_BASE_IMAGES.bunImage, mounts: [scripts], command: ["bun", "/srv/bare-bun-server.js"] },
    // Same histogram buckets as the web API, so both sides do the same per-request work.
    { ...oneCpu, name: SERVERS.fastapi, runtime: "python", port: 18705, image: FASTAPI_IMAGE, env: { LATENCY_BUCKETS: LATENCY_BUCKETS.join(",") } },
  ];
}

function benchTarget(server: Server): Target {
  const { spec } = server;
  return {
    name: spec.name,
    url: server.url,
    skipped: null,
    cpus: spec.cpus,
    memoryMb: spec.memoryMb,
    budgetSource: "target",
    container: server.container,
    runtime: spec.runtime,
  };
}

async function prepared(server: Server, engine: DockerEngine): Promise<PreparedVariant> {
  const variant = await prepareVariant(benchTarget(server), engine, os.cpus().length);
  if (variant.counters === null) throw new Error(`${server.spec.name}: no CPU and memory counters for container ${server.container}`);
  return variant;
}

/** `docker start` → first 200 on /health, STARTS times, each from a new container. */
async function startupTimes(spec: ServerSpec): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const server = await createServer(spec);
    const started = performance.now();
    await docker(["start", server.container]);
    while (!(await answersHealth(server.url))) {
      if (performance.now() - started > 10_000) throw new Error(`${spec.name} did not answer within 10 s of docker start`);
    }
    times.push(performance.now() - started);
    await stopServer(server);
  }
  return times;
}

const failures = (outcome: LoadOutcome) => outcome.errors.connect + outcome.errors.socket + outcome.errors.timeouts + outcome.errors.non2xx;

/** Phase 2 for one runtime: start-up, then /api/light and /api/heavy at once with the working set sampled. */
async function measureMinimal(
  runtime: string,
  image: string,
  context: { engine: DockerEngine; wrk: Awaited<ReturnType<typeof createWrkEngine>>; connections: number; sampleIntervalMs: number },
): Promise<MinimalFigures> {
  const spec: ServerSpec = { name: `minimal-${runtime}`, runtime, port: 18710, cpus: 0.5, cpuset: SERVER_CPU, memoryMb: 128, image };
  const startupMs = await startupTimes(spec);
  const server = await startServer(spec);
  try {
    const variant = await prepared(server, context.engine);
    const signal = new AbortController().signal;
    const load = (route: string, connections: number) =>
      context.wrk.run({ url: `${server.url}${route}`, connections, threads: 1, durationSeconds: MINIMAL_LOAD_SECONDS, timeoutSeconds: 5, signal });
    const sampling = await startServerSampling(variant.counters!, context.sampleIntervalMs);
    const [light, heavy] = await Promise.all([load("/api/light", context.connections), load("/api/heavy", MINIMAL_HEAVY_CONNECTIONS)]);
    const usage = await sampling.stop();
    const inspect = await inspectContainer(server.container);
    const successful = (o: LoadOutcome) => o.responses - o.errors.non2xx;
    return {
      runtime,
      startupMs,
      peakWorkingSetMib: usage.peakMemoryMb,
      errors: failures(light) + failures(heavy),
      oomKilled: inspect.State.OOMKilled || !inspect.State.Running,
      lightRps: successful(light) / light.durationSeconds,
      heavyRps: successful(heavy) / heavy.durationSeconds,
      requestsPerCpuSecond: usage.cpuSeconds === 0 ? null : (successful(light) + successful(heavy)) / usage.cpuSeconds,
    };
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const wrkBinary = findOnPath("wrk");
  if (wrkBinary === null) throw new Error("wrk is not on PATH; install it with `apt-get install wrk`.");
  if (os.cpus().length < 2) throw new Error("the benchmark pins the servers and the load generator to two different CPUs; this machine has one.");
  // wrk (a child of this process) inherits the affinity: the load generator stays off the servers' CPU.
  await pinSelfToCpu(CLIENT_CPU);
  await requireDockerEngine();
  const engine = DockerEngine.local();
  if (engine === null) throw new Error("no local Docker engine socket: the benchmark reads its containers' cgroups through it.");
  for (const base of Object.values(LOCAL_BASE_IMAGES)) {
    if (!(await imageExists(base))) throw new Error(`missing base image ${base}; run \`npm run images:base\` first.`);
  }
  const wrk = await createWrkEngine(wrkBinary);
  const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(", ");

  log("building the standard and minimal images of both runtimes and the FastAPI reference image");
  const images = {
    node: await buildWebApiImage("standard"),
    bun: await buildWebApiImage("standard-bun"),
    minimalNode: await buildWebApiImage("minimal"),
    minimalBun: await buildWebApiImage("minimal-bun"),
  };
  const fastapiBase = `BASE_IMAGE=${LOCAL_BASE_IMAGES.nodeImage}`;
  await docker(["build", "--quiet", "--network", "host", "--build-arg", fastapiBase, "--tag", FASTAPI_IMAGE, path.join(FIXTURES_DIR, "fastapi")], { timeoutMs: 15 * 60_000 });

  // ---- phase 1: one CPU each, rounds alternating, through the bench runner -----------------------
  const settings: BenchSettings = {
    mode: "quick",
    engine: "wrk",
    endpoints: ROUTES,
    durationSeconds: options.duration,
    warmupSeconds: options.warmup,
    connections: options.connections,
    threads: 1,
    repetitions: options.rounds,
    timeoutSeconds: 5,
    sampleIntervalMs: 100,
    baseline: SERVERS.fastapi,
    path: "published",
    wattsPerCore: DEFAULT_WATTS_PER_CORE,
    stress: STRESS_DEFAULTS,
    source: "--target (npm run bench:images: servers on the host network, pinned to CPU 0, wrk on CPU 1)",
  };
  const startedAt = new Date().toISOString();
  const servers: Server[] = [];
  for (const spec of throughputServers(images)) servers.push(await startServer(spec));
  const variants = await Promise.all(servers.map((server) => prepared(server, engine)));
  // The bench's published path: wrk on this host (pinned to CPU 1) to each URL; the servers are on
  // the host network, so no docker-proxy or NAT is in between.
  await publishedPath(wrk).attach(variants);
  const provenance = {
    machine: describeMachine(),
    tools: { node: process.version, wrk: wrk.version, "docker engine": await engine.version() },
    userlandProxy: userlandProxyState(),
    command: `npm run bench:images -- ${process.argv.slice(2).join(" ")}`.trim(),
  };
  const { results, files } = await runSession({ startedAt, settings, variants, provenance, outDir: options.out }, new AbortController().signal, createProgress());
  for (const server of servers) await stopServer(server);
  const failed = results.variants.filter((v) => v.status !== "measured");
  if (failed.length > 0) throw new Error(`not measured: ${failed.map((v) => `${v.name} (${v.detail})`).join("; ")}`);

  // ---- phase 2: the minimal images at their budget ----------------------------------------------
  const context = { engine, wrk, connections: options.connections, sampleIntervalMs: 100 };
  const minimal = [await measureMinimal("node", images.minimalNode, context), await measureMinimal("bun", images.minimalBun, context)];

  // ---- report -----------------------------------------------------------------------------------
  const servedBy = servers.map((s) => `  ${s.spec.name}: ${SERVER_LABELS[s.spec.name]}`).join("\n");
  process.stdout.write(
    `\nOptiVolt web API images benchmark — ${options.rounds} alternating rounds × ${options.duration} s per server and route, ` +
      `${options.connections} connections, wrk ${wrk.version} on CPU ${CLIENT_CPU}, servers on CPU ${SERVER_CPU} (--cpus 1), host network; ` +
      `load average at start ${loadAverage}\n${servedBy}\n\n${renderSummary(analyze(results), minimal)}\n\n` +
      `bench report: ${files.report} (results: ${files.results})\n`,
  );
}

process.once("SIGINT", () => void removeAllServers().then(() => process.exit(130)));
main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:images: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => removeAllServers());
