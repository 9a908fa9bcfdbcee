/**
 * Benchmark of the web API images against a FastAPI + Uvicorn app serving the same routes
 * (per-request metrics included), the same app without per-request metrics, and a bare node:http
 * server.
 * `npm run bench:images -- [--rounds 5] [--duration 8] [--warmup 2] [--light-connections 50] [--heavy-connections 16]`
 *
 * Servers run on the host network (no userland proxy in the path), pinned to CPU 0 with --cpus 1;
 * wrk runs on CPU 1 (this process and its children are pinned there); servers alternate within
 * each round and every figure is the median over the rounds. Then standard at --cpus 1 and 2 on
 * both cores, with ordinary and with pipelined requests, and minimal's start-up time and memory. Prints a table and writes JSON to
 * bench-results/images/.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { createWrkEngine, findOnPath } from "../../bench/engines/wrk";
import { LoadOutcome } from "../../bench/engines/types";
import { median } from "../../bench/stats";
import { LOCAL_BASE_IMAGES, webApiImageName } from "../../components/naming";
import { LATENCY_BUCKETS } from "../src/metrics";
import {
  buildWebApiImage,
  containerCpuSeconds,
  containerPeakMemoryBytes,
  docker,
  httpRequest,
  imageExists,
  inspectContainer,
  removeContainer,
  requireDockerEngine,
  sampleWorkingSet,
  sumSamples,
  waitForHealth,
} from "../../tests/integration/support";

const FASTAPI_IMAGE = "ovimages-bench-fastapi";
/** The baseline of the targets: FastAPI serving the same routes, /metrics counting every request. */
const FASTAPI = "FastAPI+Uvicorn";
const FASTAPI_NO_METRICS = "FastAPI+Uvicorn without request metrics";
const BARE_NODE = "bare node:http";
/** Requests per write on each connection in the pipelined scaling run. */
const PIPELINE_DEPTH = 16;
const SERVER_CPU = "0";
const CLIENT_CPU = 1;
const PREFIX = `ovimages-bench-${process.pid}`;
const created = new Set<string>();

interface Server {
  label: string;
  name: string;
  /** Container id (for its cgroup files). */
  id: string;
  port: number;
  url: string;
}

interface ServerSpec {
  label: string;
  port: number;
  cpus: number;
  cpuset: string;
  memoryMb: number;
  image: string;
  env?: Record<string, string>;
  mounts?: string[];
  command?: string[];
}

function log(message: string): void {
  process.stderr.write(`[bench:images] ${message}\n`);
}

async function createServer(spec: ServerSpec): Promise<Server> {
  const name = `${PREFIX}-${spec.label.replace(/[^a-z0-9]+/gi, "-")}`;
  await removeContainer(name);
  const env = { PORT: String(spec.port), ...spec.env };
  created.add(name);
  const { stdout } = await docker([
    "create", "--name", name, "--network", "host",
    "--cpus", String(spec.cpus), "--cpuset-cpus", spec.cpuset,
    "--memory", `${spec.memoryMb}m`, "--memory-swap", `${spec.memoryMb}m`,
    ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...(spec.mounts ?? []).flatMap((m) => ["--volume", m]),
    spec.image,
    ...(spec.command ?? []),
  ]);
  return { label: spec.label, name, id: stdout.trim(), port: spec.port, url: `http://127.0.0.1:${spec.port}` };
}

async function startServer(spec: ServerSpec): Promise<Server> {
  const server = await createServer(spec);
  await docker(["start", server.name]);
  await waitForHealth(server.url, 30_000);
  return server;
}

async function stopServer(server: Server): Promise<void> {
  await removeContainer(server.name);
  created.delete(server.name);
}

/** One HTTP GET on a fresh connection; true on 200 (used to time start-up tightly). */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false, timeout: 500 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  lightConnections: number;
  heavyConnections: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      duration: { type: "string", default: "8" },
      warmup: { type: "string", default: "2" },
      "light-connections": { type: "string", default: "50" },
      "heavy-connections": { type: "string", default: "16" },
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
    lightConnections: int("light-connections", values["light-connections"], 1),
    heavyConnections: int("heavy-connections", values["heavy-connections"], 1),
  };
}

async function main(): Promise<void> {
  const options = readOptions();
  const wrkBinary = findOnPath("wrk");
  if (wrkBinary === null) throw new Error("wrk is not on PATH; install it with `apt-get install wrk`.");
  if (os.cpus().length < 2) throw new Error("the benchmark pins the server and the load generator to two different CPUs; this machine has one.");
  // wrk (a child of this process) inherits the affinity: the load generator stays off the server's CPU.
  await pinSelfToCpu(CLIENT_CPU);
  await requireDockerEngine();
  for (const base of Object.values(LOCAL_BASE_IMAGES)) {
    if (!(await imageExists(base))) throw new Error(`missing base image ${base}; run \`npm run images:base\` first.`);
  }
  const wrk = await createWrkEngine(wrkBinary);

  log("building optivolt-webapi:standard, :minimal and the FastAPI reference image");
  await buildWebApiImage("standard");
  await buildWebApiImage("minimal");
  await docker(["build", "--quiet", "--network", "host", "--build-arg", `BASE_IMAGE=${LOCAL_BASE_IMAGES.nodeImage}`, "--tag", FASTAPI_IMAGE, path.join(__dirname, "fastapi")]);

  const load = async (server: Server, route: string, connections: number, seconds: number, pipeline: number): Promise<LoadOutcome> => {
    return wrk.run({ url: `${server.url}${route}`, connections, threads: 1, durationSeconds: seconds, timeoutSeconds: 5, pipeline, signal: new AbortController().signal });
  };
  const measure = async (server: Server, route: string, connections: number, pipeline = 1) => {
    if (options.warmup > 0) await load(server, route, connections, options.warmup, pipeline);
    const cpuBefore = await containerCpuSeconds(server.id);
    const outcome = await load(server, route, connections, options.duration, pipeline);
    const cpuSeconds = (await containerCpuSeconds(server.id)) - cpuBefore;
    const errors = outcome.errors.connect + outcome.errors.socket + outcome.errors.timeouts + outcome.errors.non2xx;
    // Requests per CPU-second the server used: steadier than req/s when other work shares the CPU.
    return { rps: outcome.responses / outcome.durationSeconds, perCpu: outcome.responses / cpuSeconds, errors, p99: outcome.latencyMs.p99 };
  };
  const routes = [
    { route: "/api/light", connections: options.lightConnections },
    { route: "/api/heavy", connections: options.heavyConnections },
  ];

  // ---- phase 1: one CPU each, alternating --------------------------------------------------------
  const oneCpu = { cpus: 1, cpuset: SERVER_CPU, memoryMb: 512 };
  const servers = [
    await startServer({ ...oneCpu, label: "standard", port: 18701, image: webApiImageName("standard"), env: { VARIANT: "standard" } }),
    await startServer({
      ...oneCpu, label: BARE_NODE, port: 18702, image: LOCAL_BASE_IMAGES.nodeImage,
      mounts: [`${path.join(__dirname, "bare-server.js")}:/srv/bare-server.js:ro`], command: ["node", "/srv/bare-server.js"],
    }),
    // Same histogram buckets as the web API, so both sides do the same per-request work.
    await startServer({ ...oneCpu, label: FASTAPI, port: 18703, image: FASTAPI_IMAGE, env: { LATENCY_BUCKETS: LATENCY_BUCKETS.join(",") } }),
    await startServer({ ...oneCpu, label: FASTAPI_NO_METRICS, port: 18707, image: FASTAPI_IMAGE, env: { REQUEST_METRICS: "off" } }),
  ];
  const throughput = new Map<string, { rps: number[]; perCpu: number[]; errors: number; p99: number[] }>();
  for (let round = 0; round < options.rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const { route, connections } of routes) {
      for (const server of order) {
        const result = await measure(server, route, connections);
        const key = `${server.label} ${route}`;
        const entry = throughput.get(key) ?? { rps: [], perCpu: [], errors: 0, p99: [] };
        entry.rps.push(result.rps);
        entry.perCpu.push(result.perCpu);
        entry.errors += result.errors;
        entry.p99.push(result.p99);
        throughput.set(key, entry);
        log(`round ${round + 1}/${options.rounds} ${key}: ${result.rps.toFixed(0)} req/s, ${result.perCpu.toFixed(0)} req/CPU-s, ${result.errors} errors`);
      }
    }
  }
  for (const server of servers) await stopServer(server);

  // ---- phase 2: standard at 2 CPUs (2 workers) against 1 CPU, /metrics totals --------------------
  // Both may run on both cores (only the quota differs), so both share CPU 1 with wrk alike.
  const bothCores = { cpuset: "0,1", memoryMb: 512, image: webApiImageName("standard"), env: { VARIANT: "standard" } };
  const standard1 = await startServer({ ...bothCores, cpus: 1, label: "standard 1 CPU", port: 18706 });
  const standard2 = await startServer({ ...bothCores, cpus: 2, label: "standard 2 CPUs", port: 18704 });
  // On two cores wrk competes with the second worker for CPU 1, and one worker already keeps wrk
  // busy; pipelined requests cost wrk far less each, so that run shows what the second CPU adds.
  const scaling = { one: [] as number[], two: [] as number[], onePipelined: [] as number[], twoPipelined: [] as number[] };
  // CPUs the server kept busy (unpipelined).
  const coresUsed = { one: [] as number[], two: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    for (const server of round % 2 === 0 ? [standard1, standard2] : [standard2, standard1]) {
      const which = server === standard1 ? "one" : "two";
      const result = await measure(server, "/api/light", options.lightConnections);
      scaling[which].push(result.rps);
      coresUsed[which].push(result.rps / result.perCpu);
      const pipelined = await measure(server, "/api/light", options.lightConnections, PIPELINE_DEPTH);
      scaling[`${which}Pipelined`].push(pipelined.rps);
      log(`round ${round + 1}/${options.rounds} ${server.label} /api/light: ${result.rps.toFixed(0)} req/s; pipelined ×${PIPELINE_DEPTH}: ${pipelined.rps.toFixed(0)} req/s`);
    }
  }
  // /metrics must report the totals of both workers: send a known number of requests, each on a
  // fresh connection (so they spread over the workers), and compare with what /metrics counted.
  const lightOk = { route: "/api/light", status: "200" };
  const beforeCount = sumSamples((await httpRequest(`${standard2.url}/metrics`)).body.toString(), "http_requests_total", lightOk);
  const sent = 200;
  await Promise.all(Array.from({ length: sent }, () => httpRequest(`${standard2.url}/api/light`)));
  const afterText = (await httpRequest(`${standard2.url}/metrics`)).body.toString();
  const metricsCheck = { counted: sumSamples(afterText, "http_requests_total", lightOk) - beforeCount, sent, workers: sumSamples(afterText, "webapi_info") };
  await stopServer(standard1);
  await stopServer(standard2);

  // ---- phase 3: minimal: start-up time and peak memory under load --------------------------------
  const minimalSpec: ServerSpec = { cpus: 0.5, cpuset: SERVER_CPU, memoryMb: 128, label: "minimal", port: 18705, image: webApiImageName("minimal"), env: { VARIANT: "minimal" } };
  // docker start → first 200, and the part of it after the engine started the process (State.StartedAt).
  const startupMs: number[] = [];
  const appStartupMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const server = await createServer(minimalSpec);
    const started = performance.now();
    await docker(["start", server.name]);
    while (!(await healthy(server.url))) {
      if (performance.now() - started > 10_000) throw new Error("minimal did not answer within 10 s of docker start");
    }
    const answeredAt = Date.now();
    startupMs.push(performance.now() - started);
    const processStartedAt = Date.parse((await inspectContainer(server.name)).State.StartedAt.replace(/(\.\d{3})\d*/, "$1"));
    appStartupMs.push(answeredAt - processStartedAt);
    await stopServer(server);
  }
  const minimal = await startServer(minimalSpec);
  const minimalLoad: Record<string, { rps: number; errors: number }> = {};
  const workingSet = sampleWorkingSet(minimal.id);
  for (const { route, connections } of routes) {
    const result = await measure(minimal, route, connections);
    minimalLoad[route] = { rps: result.rps, errors: result.errors };
  }
  const peakWorkingSetBytes = await workingSet.stop();
  const inspect = await inspectContainer(minimal.name);
  const peakBytes = await containerPeakMemoryBytes(inspect.Id);
  const processMemory = readProcessMemory(inspect.State.Pid);
  await stopServer(minimal);

  // ---- report ------------------------------------------------------------------------------------
  const med = (key: string, field: "rps" | "perCpu" = "rps") => median(throughput.get(key)![field]);
  const rows: [string, string][] = [];
  const fmt = (n: number) => n.toFixed(0);
  for (const { route } of routes) {
    for (const server of servers) {
      const e = throughput.get(`${server.label} ${route}`)!;
      rows.push([
        `${route} ${server.label} (1 CPU)`,
        `${fmt(median(e.rps))} req/s [${e.rps.map(fmt).join(", ")}]; ${fmt(median(e.perCpu))} req/CPU-s; p99 ${median(e.p99).toFixed(1)} ms; errors ${e.errors}`,
      ]);
    }
  }
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const compare = (label: string, route: string, a: string, b: string) =>
    rows.push([label, `${ratio(med(`${a} ${route}`), med(`${b} ${route}`))} (per CPU-s: ${ratio(med(`${a} ${route}`, "perCpu"), med(`${b} ${route}`, "perCpu"))})`]);
  compare("/api/light standard ÷ FastAPI (target ≥ 2x)", "/api/light", "standard", FASTAPI);
  compare("/api/light standard ÷ bare node:http (target ≥ 0.85)", "/api/light", "standard", BARE_NODE);
  compare("/api/light standard ÷ FastAPI without request metrics (reference)", "/api/light", "standard", FASTAPI_NO_METRICS);
  compare("/api/light bare node:http ÷ FastAPI (reference)", "/api/light", BARE_NODE, FASTAPI);
  compare("/api/heavy standard ÷ FastAPI (target ≥ 1.2x)", "/api/heavy", "standard", FASTAPI);
  compare("/api/heavy standard ÷ FastAPI without request metrics (reference)", "/api/heavy", "standard", FASTAPI_NO_METRICS);
  compare("/api/heavy bare node:http ÷ FastAPI (reference)", "/api/heavy", BARE_NODE, FASTAPI);
  rows.push(["/api/light standard 1 CPU (cpuset 0,1) req/s", `${fmt(median(scaling.one))}  [runs ${scaling.one.map(fmt).join(", ")}]`]);
  rows.push(["/api/light standard 2 CPUs (cpuset 0,1) req/s", `${fmt(median(scaling.two))}  [runs ${scaling.two.map(fmt).join(", ")}]`]);
  rows.push(["standard 2 CPUs ÷ 1 CPU", ratio(median(scaling.two), median(scaling.one))]);
  rows.push([`/api/light pipelined ×${PIPELINE_DEPTH}, standard 1 CPU / 2 CPUs req/s`, `${fmt(median(scaling.onePipelined))} / ${fmt(median(scaling.twoPipelined))}`]);
  rows.push([`standard 2 CPUs ÷ 1 CPU, pipelined ×${PIPELINE_DEPTH}`, ratio(median(scaling.twoPipelined), median(scaling.onePipelined))]);
  rows.push(["standard CPUs kept busy at 1 CPU / at 2 CPUs", `${median(coresUsed.one).toFixed(2)} / ${median(coresUsed.two).toFixed(2)}`]);
  rows.push(["standard 2 CPUs: workers in /metrics", String(metricsCheck.workers)]);
  rows.push(["standard 2 CPUs: /metrics counted / requests sent", `${metricsCheck.counted} / ${metricsCheck.sent}`]);
  rows.push(["minimal: docker start → first 200, median of 5 (target ≤ 500 ms)", `${median(startupMs).toFixed(0)} ms  [${startupMs.map(fmt).join(", ")}]`]);
  rows.push(["minimal: of which process start → first 200", `${median(appStartupMs).toFixed(0)} ms  [${appStartupMs.map(fmt).join(", ")}]`]);
  rows.push(["minimal (0.5 CPU, 128 MB) /api/light, /api/heavy req/s", `${fmt(minimalLoad["/api/light"].rps)}, ${fmt(minimalLoad["/api/heavy"].rps)} (errors ${minimalLoad["/api/light"].errors + minimalLoad["/api/heavy"].errors})`]);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  rows.push(["minimal: peak working set under load, as docker stats (target ≤ 64 MiB)", mib(peakWorkingSetBytes)]);
  rows.push(["minimal: cgroup peak incl. page cache it read first", mib(peakBytes)]);
  rows.push([
    "minimal: node's peak RSS (VmHWM) / RSS anon / RSS file after load",
    `${mib(processMemory.VmHWM)} / ${mib(processMemory.RssAnon)} / ${mib(processMemory.RssFile)}`,
  ]);

  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\nOptiVolt web API images benchmark — ${options.rounds} rounds × ${options.duration} s, wrk ${wrk.version} on CPU ${CLIENT_CPU}, servers on CPU ${SERVER_CPU}, host network\n\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);

  const outDir = path.resolve(__dirname, "..", "..", "bench-results", "images");
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `benchmark-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(
    file,
    `${JSON.stringify({ options, machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, kernel: os.release() }, throughput: Object.fromEntries(throughput), scaling, coresUsed, metricsCheck, startupMs, appStartupMs, minimalLoad, peakWorkingSetBytes, peakBytes, processMemory }, null, 2)}\n`,
  );
  process.stdout.write(`\nraw figures: ${path.relative(process.cwd(), file)}\n`);
}

/**
 * Memory figures of a process from /proc/<pid>/status, in bytes: VmHWM (peak resident set), RssAnon
 * (heap, stacks: the process's own) and RssFile (mapped files, mostly the node binary, shared
 * through the page cache and charged to whichever cgroup read them first).
 */
function readProcessMemory(pid: number): { VmHWM: number; RssAnon: number; RssFile: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { VmHWM: kib("VmHWM"), RssAnon: kib("RssAnon"), RssFile: kib("RssFile") };
}

/** Restricts this process (and the wrk it spawns) to one CPU with taskset. */
async function pinSelfToCpu(cpu: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)], (error) =>
      error ? reject(new Error(`taskset failed (is util-linux installed?): ${error.message}`)) : resolve(),
    ),
  );
}

async function cleanup(): Promise<void> {
  await Promise.all([...created].map((name) => removeContainer(name).catch(() => undefined)));
}

process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:images: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
