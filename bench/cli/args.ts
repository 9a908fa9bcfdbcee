/** Command line → validated options (pure: no I/O, errors are UsageError). */
import { Command, InvalidArgumentError, Option } from "commander";
import { commandLine, parseCommandLine } from "../../tooling/commandLine";
import { validStackName } from "../../model/config/stackFile";
import { UsageError } from "../errors";
import { BenchSettings, MEASURING_PATHS, MeasuringPathName, Mode, MODES } from "../schema";
import { checkUniqueNames, loopbackRefusal, parseTargetSpec, Target } from "../reach/targets";

/** The seed's four endpoints. */
export const DEFAULT_ENDPOINTS = ["/", "/api/light", "/api/heavy", "/api/slow"];

/** Per-mode defaults; every one is overridable. Stress duration is per concurrency step. */
export const MODE_DEFAULTS: Record<Mode, { durationSeconds: number; warmupSeconds: number; connections: number }> = {
  quick: { durationSeconds: 10, warmupSeconds: 3, connections: 50 },
  full: { durationSeconds: 60, warmupSeconds: 10, connections: 50 },
  stress: { durationSeconds: 10, warmupSeconds: 3, connections: 8 },
};

/** Defaults of the flags a study has no flag for: it measures with the CLI's own. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 250;
export const DEFAULT_WATTS_PER_CORE = 10;
export const STRESS_DEFAULTS: BenchSettings["stress"] = { maxErrorRate: 0.01, maxP99Ms: 2000, maxConnections: 1024 };

export type EngineChoice = "auto" | "wrk" | "autocannon";

/** The generator image `npm run images:base` builds (images/base/build-swarm-lab.sh). */
export const DEFAULT_GENERATOR_IMAGE = "optivolt/loadgen:wrk";

/** The one line printed under a usage error. */
export const HELP_HINT = "Run `npm run bench -- --help` for every flag (or `npm run bench -- compare --help`).";

export interface BenchOptions {
  mode: Mode;
  source: { kind: "stack"; stack: string } | { kind: "targets"; targets: Target[] };
  /** Subset of variants to run (null: all). */
  only: string[] | null;
  endpoints: string[];
  durationSeconds: number;
  warmupSeconds: number;
  /** Concurrency (the first step in stress mode). */
  connections: number;
  threads: number;
  repetitions: number;
  timeoutSeconds: number;
  sampleIntervalMs: number;
  engine: EngineChoice;
  path: MeasuringPathName;
  generatorImage: string;
  /** --path swarm: the manager's engine and the stack's overlay network. */
  swarm: { host: string; network: string } | null;
  baseline: string | null;
  outDir: string;
  wattsPerCore: number;
  stress: { maxErrorRate: number; maxP99Ms: number; maxConnections: number };
  /** Fixed top of the throughput chart's axis (req/s); null: each chart picks its own. */
  yMax: number | null;
  /** The stack whose config states each variant's memory floor: `--floors` (explicit), else --stack's own; null: none. */
  floors: { stack: string; explicit: boolean } | null;
}

const number = (check: (n: number) => boolean, what: string) => (text: string) => {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !check(value)) throw new InvalidArgumentError(`must be ${what}, got "${text}"`);
  return value;
};
const positive = number((n) => n > 0, "a positive number");
const nonNegative = number((n) => n >= 0, "zero or more");
const positiveInt = number((n) => n > 0 && Number.isInteger(n), "a positive integer");
/**
 * Bounds of --sample-interval: below 10 ms the cgroup reads themselves load the machine being
 * measured; above a minute a quick run would get no sample. (Node clamps a timer beyond 2^31-1 ms
 * to 1 ms, which is how an unbounded value became a thousand reads a second.)
 */
export const SAMPLE_INTERVAL_MS = { min: 10, max: 60_000 } as const;
const sampleInterval = number(
  (n) => Number.isInteger(n) && n >= SAMPLE_INTERVAL_MS.min && n <= SAMPLE_INTERVAL_MS.max,
  `a whole number of milliseconds from ${SAMPLE_INTERVAL_MS.min} to ${SAMPLE_INTERVAL_MS.max}`,
);
const fraction = number((n) => n >= 0 && n <= 1, "a ratio between 0 and 1 (0.01 = 1 %)");
const list = (text: string) => text.split(",").map((s) => s.trim()).filter((s) => s !== "");
const collect = (value: string, previous: string[] = []) => [...previous, value];

function buildProgram(): Command {
  return commandLine("npm run bench --", { output: "silent" })
    .description("Load-test the OptiVolt web API variants one after another and write results.json, report.md and SVG charts.")
    .addOption(new Option("--mode <mode>", "quick (10 s/endpoint), full (60 s), stress (raise connections until a threshold breaks)").choices(MODES).default("quick"))
    .option("--stack <name>", "read targets and budgets from `pulumi stack output --json --stack NAME`")
    .option("--target <spec>", "name=URL[,cpus=N,memoryMb=M,container=NAME] or, for a QEMU-run guest, name=URL[,cpus=N,memoryMb=GUEST_MIB],pidFile=PATH[,accel=kvm|tcg][,isolation=microvm|unikernel]; repeatable; no Pulumi needed", collect)
    .option("--variants <list>", "only these variants (comma-separated)", list)
    .option("--endpoints <list>", `comma-separated paths (default ${DEFAULT_ENDPOINTS.join(",")})`, list)
    .option("--duration <s>", "seconds per measured run (per step in stress mode)", positive)
    .option("--warmup <s>", "seconds of unmeasured load before every run", nonNegative)
    .option("--connections <n>", "concurrent connections (the first step in stress mode)", positiveInt)
    .option("--threads <n>", "wrk threads", positiveInt, 1)
    .option("--repetitions <n>", "measure every variant/endpoint N times, variants interleaved", positiveInt, 1)
    .option("--timeout <s>", "request timeout", positive, 5)
    .option("--sample-interval <ms>", `container memory sampling period (${SAMPLE_INTERVAL_MS.min}-${SAMPLE_INTERVAL_MS.max})`, sampleInterval, DEFAULT_SAMPLE_INTERVAL_MS)
    .addOption(
      new Option(
        "--path <path>",
        "namespace: wrk in a container inside each variant's network namespace, on cores of its own; published: from the host to the published port (docker-proxy included); " +
          "swarm: wrk as a Swarm task on the optivolt.role=loadgen node, to each variant's service on the stack's overlay network",
      )
        .choices(MEASURING_PATHS)
        .default("namespace"),
    )
    .option("--generator-image <image>", "load generator image for --path namespace (built by `npm run images:base`)", process.env.OPTIVOLT_LOADGEN_IMAGE ?? DEFAULT_GENERATOR_IMAGE)
    .option("--swarm-network <name>", "--path swarm: the stack's overlay network (its optivolt:networkName)")
    .option("--swarm-host <url>", "--path swarm: the manager's engine (docker:host)", process.env.DOCKER_HOST)
    .addOption(new Option("--engine <name>", "load generator on --path published (namespace always uses wrk)").choices(["auto", "wrk", "autocannon"]).default("auto"))
    .option("--baseline <variant>", "variant the others are compared to (default: the first)")
    .option("--out <dir>", "output directory (default bench-results/<mode>-<time>)")
    .option("--watts-per-core <W>", "power of one busy core for the energy estimate when RAPL is absent", positive, DEFAULT_WATTS_PER_CORE)
    .option("--max-error-rate <ratio>", "stress: a step breaks above this error rate", fraction, STRESS_DEFAULTS.maxErrorRate)
    .option("--max-p99-ms <ms>", "stress: a step breaks above this p99 latency", positive, STRESS_DEFAULTS.maxP99Ms)
    .option("--max-connections <n>", "stress: highest concurrency tried", positiveInt, STRESS_DEFAULTS.maxConnections)
    .option("--y-max <req/s>", "fix the throughput chart's axis at 0..N req/s, so two reports placed side by side share one scale", positive)
    .option("--floors <stack>", "read each variant's memory floor for the report's ladder from Pulumi.STACK.yaml (default: the --stack's own; none with --target alone)");
}

/** The usage text printed with --help and after a bad flag. */
export function usage(): string {
  return buildProgram().helpInformation();
}

interface RawOptions {
  mode: Mode;
  stack?: string;
  target?: string[];
  variants?: string[];
  endpoints?: string[];
  duration?: number;
  warmup?: number;
  connections?: number;
  threads: number;
  repetitions: number;
  timeout: number;
  sampleInterval: number;
  engine: EngineChoice;
  path: MeasuringPathName;
  generatorImage: string;
  swarmNetwork?: string;
  swarmHost?: string;
  baseline?: string;
  out?: string;
  wattsPerCore: number;
  maxErrorRate: number;
  maxP99Ms: number;
  maxConnections: number;
  yMax?: number;
  floors?: string;
}

function checkEndpoints(endpoints: string[]): string[] {
  if (endpoints.length === 0) throw new UsageError("--endpoints needs at least one path");
  for (const e of endpoints) {
    if (!e.startsWith("/")) throw new UsageError(`--endpoints: "${e}" must be a path starting with /`);
  }
  return endpoints;
}

/** Parses argv (without node and script); returns "help" for --help. */
export function parseArgs(argv: readonly string[], now: Date = new Date()): BenchOptions | "help" {
  const program = buildProgram();
  if (parseCommandLine(program, argv) === "help") return "help";
  const raw = program.opts<RawOptions>();
  if ((raw.stack === undefined) === (raw.target === undefined)) {
    throw new UsageError("give either --stack NAME or one or more --target name=URL (not both)");
  }
  let source: BenchOptions["source"];
  if (raw.target !== undefined) {
    const targets = raw.target.map(parseTargetSpec);
    checkUniqueNames(targets);
    for (const t of targets) {
      const refusal = t.url === null ? null : loopbackRefusal(t.url);
      if (refusal !== null) throw new UsageError(`--target ${t.name}: ${refusal}`);
    }
    source = { kind: "targets", targets };
  } else {
    const stack = raw.stack as string;
    try {
      validStackName(stack);
    } catch (error) {
      throw new UsageError(`--stack: ${(error as Error).message}`);
    }
    source = { kind: "stack", stack };
  }
  if (raw.floors !== undefined) {
    try {
      validStackName(raw.floors);
    } catch (error) {
      throw new UsageError(`--floors: ${(error as Error).message}`);
    }
  }
  const defaults = MODE_DEFAULTS[raw.mode];
  const connections = raw.connections ?? defaults.connections;
  if (raw.mode === "stress" && connections > raw.maxConnections) {
    throw new UsageError(`--connections ${connections} is above --max-connections ${raw.maxConnections}`);
  }
  if (raw.path === "namespace" && raw.engine === "autocannon") {
    throw new UsageError("--engine autocannon runs inside this process on the host and cannot join a variant's namespace; use it with --path published");
  }
  let swarm: BenchOptions["swarm"] = null;
  if (raw.path === "swarm") {
    if (raw.engine === "autocannon") throw new UsageError("--engine autocannon runs inside this process on the host; --path swarm runs wrk as a Swarm task");
    if (raw.swarmNetwork === undefined) throw new UsageError("--path swarm needs --swarm-network NAME: the stack's overlay network (optivolt:networkName in Pulumi.<stack>.yaml)");
    if (raw.swarmHost === undefined) throw new UsageError("--path swarm needs the manager's engine: --swarm-host tcp://127.0.0.1:PORT or DOCKER_HOST (what `npm run swarm:lab -- up` prints)");
    swarm = { host: raw.swarmHost, network: raw.swarmNetwork };
  }
  if (raw.threads > connections) throw new UsageError(`--threads ${raw.threads} needs at least as many --connections (got ${connections})`);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return {
    mode: raw.mode,
    source,
    only: raw.variants ?? null,
    endpoints: checkEndpoints(raw.endpoints ?? DEFAULT_ENDPOINTS),
    durationSeconds: raw.duration ?? defaults.durationSeconds,
    warmupSeconds: raw.warmup ?? defaults.warmupSeconds,
    connections,
    threads: raw.threads,
    repetitions: raw.repetitions,
    timeoutSeconds: raw.timeout,
    sampleIntervalMs: raw.sampleInterval,
    engine: raw.engine,
    path: raw.path,
    generatorImage: raw.generatorImage,
    swarm,
    baseline: raw.baseline ?? null,
    outDir: raw.out ?? `bench-results/${raw.mode}-${stamp}`,
    wattsPerCore: raw.wattsPerCore,
    stress: { maxErrorRate: raw.maxErrorRate, maxP99Ms: raw.maxP99Ms, maxConnections: raw.maxConnections },
    yMax: raw.yMax ?? null,
    floors: raw.floors !== undefined ? { stack: raw.floors, explicit: true } : source.kind === "stack" ? { stack: source.stack, explicit: false } : null,
  };
}
