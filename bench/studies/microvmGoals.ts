/**
 * Measures a micro-VM variant against issue 22's targets and prints each figure with met or MISSED:
 *
 *   npm run vm:targets -- [--stack ci] [--variant microvm-vm] [--boots 3] [--floor] [--out DIR]
 *
 * Builds the payload (the unikernel's initrd step), then the kernel and the disk into a fresh
 * folder (timed), and both again (cached: each must say it is up to date). Then boots the guest N
 * times through the program's own start line: first 200 on /health (the runner's boot record),
 * every route, and the bench session (`runSession`, wrk on the published path, the guest measured
 * from its QEMU process) for 10 s of /api/light and then 30 s of /api/heavy at 50 connections:
 * errors, whether the guest is still alive and not out of memory, and QEMU's peak RSS.
 * `--floor` then searches the smallest guest RAM from 96 to 256 MiB, in 32 MiB steps, that boots
 * and serves the same two loads with no error, the guest alive and not out of memory (the search
 * `npm run unikernel:targets -- --floor` runs, guestChecks.ts): it boots the guest through the
 * runner at each size, below the floor the stack config accepts, which is what it measures.
 * Everything it starts and builds is stopped and removed at the end.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeMachine } from "../counters/machine";
import { createWrkEngine, findOnPath } from "../engines/wrk";
import { LoadEngine } from "../engines/types";
import { median } from "../numbers/stats";
import { publishedPath } from "../reach/paths";
import { prepareVariant } from "../reach/prepare";
import { Target } from "../reach/targets";
import { userlandProxyState } from "../reach/userlandProxy";
import { RunResult } from "../schema";
import { createProgress } from "../session/progress";
import { runSession } from "../session/session";
import { MicrovmLayout } from "../../components/microvm/commands";
import { MicrovmPlan, microvmPlan } from "../../components/microvm/buildPlan";
import { ConfigError, LabConfig, loadStackConfig, MicrovmSpec } from "../../model/config";
import { commandLine, parseOrExitCode } from "../../tooling/commandLine";
import { guestLoadSettings, routeProblems, searchFloor, timed, verdict } from "./guestChecks";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
/** The bench's own concurrency (quick and full modes). */
const LIGHT_SECONDS = 10;
const HEAVY_SECONDS = 30;
/** The floor search's range and step (MiB): 64 is below the range, taken to fail; 256 is the stack's budget. */
const FLOOR = { failsMi: 64, servesMi: 256, stepMi: 32 };
/** Targets from the issue. */
const GOALS = { healthSeconds: 12, buildSeconds: 60, rssOverGuestMi: 64, floorMi: 256 };

/** Runs an argument list from `cwd` (no shell); resolves with its stdout, rejects with its stderr. */
function run(argv: readonly string[], cwd = PROJECT_DIR, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${argv.slice(0, 3).join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** The runner's boot record beside the pid file. */
function bootRecord(layout: MicrovmLayout): { bootMs: number; accel: "kvm" | "tcg" } {
  return JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, path.dirname(layout.pidFile), "boot.json"), "utf8")) as { bootMs: number; accel: "kvm" | "tcg" };
}

interface Phase {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  peakRssMb: number | null;
}

function phaseOf(runs: readonly RunResult[]): Phase {
  const one = runs[0];
  if (one === undefined) throw new Error("the bench session measured no run");
  const { connect, socket, timeouts, non2xx } = one.errors;
  return {
    requests: one.responses,
    errors: connect + socket + timeouts + non2xx,
    requestsPerSecond: one.responses / one.durationSeconds,
    peakRssMb: one.server?.peakMemoryMb ?? null,
  };
}

interface SessionContext {
  wrk: LoadEngine;
  name: string;
  spec: MicrovmSpec;
  url: string;
  pidFile: string;
  accel: "kvm" | "tcg";
  outDir: string;
}

/** One bench session on one endpoint of the running guest, measured from its QEMU process. */
async function loadPhase(context: SessionContext, endpoint: string, seconds: number): Promise<Phase> {
  const target: Target = {
    name: context.name,
    url: context.url,
    skipped: null,
    cpus: context.spec.cpus,
    memoryMb: context.spec.memoryMb,
    budgetSource: "target",
    container: null,
    runtime: "node",
    qemu: { pidFile: context.pidFile, accel: context.accel, guest: "microvm" },
  };
  const variant = await prepareVariant(target, null, os.cpus().length);
  if (variant.result.status !== "measured") throw new Error(`${context.name}: ${variant.result.status} (${variant.result.detail})`);
  await publishedPath(context.wrk).attach([variant]);
  const settings = guestLoadSettings(context.name, "wrk", endpoint, seconds, 30, "--target (npm run vm:targets)");

  const provenance = {
    machine: describeMachine(),
    tools: { node: process.version, wrk: context.wrk.version },
    userlandProxy: userlandProxyState(),
    command: `npm run vm:targets -- ${process.argv.slice(2).join(" ")}`.trim(),
  };
  const outDir = path.join(context.outDir, endpoint.replace(/\W+/g, "-").replace(/^-/, ""));
  const { results } = await runSession({ startedAt: new Date().toISOString(), settings, variants: [variant], provenance, outDir }, new AbortController().signal, createProgress());
  return phaseOf(results.variants[0].runs);
}

interface Options {
  stack: string;
  variant: string;
  boots: number;
  floor: boolean;
  out: string;
}

/** The serial log's sign that the guest kernel ran out of memory. */
function outOfMemory(layout: MicrovmLayout): boolean {
  return /Out of memory|oom-kill/i.test(fs.readFileSync(path.join(PROJECT_DIR, layout.serialLog), "latin1"));
}

/** What the floor search needs of the study: the load engine, the guest's spec and layout, how to stop it and report. */
interface FloorStudy {
  wrk: LoadEngine;
  spec: MicrovmSpec;
  options: Options;
  plan: MicrovmPlan;
  url: string;
  pidFile: string;
  stop: () => Promise<unknown>;
  say: (line: string) => void;
}

/** The smallest guest RAM from 96 to 256 MiB that boots and serves both loads, the guest alive and not out of memory. */
async function searchMicrovmFloor({ wrk, spec, options, plan, url, pidFile, stop, say }: FloorStudy): Promise<void> {
  const { layout } = plan;
  const floor = await searchFloor({
    guest: "the micro-VM",
    ...FLOOR,
    // The runner at each size, not the stack config: the config refuses what this measures.
    boot: async (memoryMb) => {
      await run(plan.start([`127.0.0.1:${spec.hostPort}`], { memoryMb, healthTimeoutSeconds: 60 }), PROJECT_DIR, 90_000);
      return { baseUrl: url, accel: bootRecord(layout).accel };
    },
    serve: async ({ accel }, memoryMb) => {
      const context = { wrk, name: options.variant, spec: { ...spec, memoryMb }, url, pidFile, accel, outDir: path.join(options.out, `floor-${memoryMb}MiB`) };
      const light = await loadPhase(context, "/api/light", LIGHT_SECONDS);
      const heavy = await loadPhase(context, "/api/heavy", HEAVY_SECONDS);
      return { lightRequests: light.requests, heavyRequests: heavy.requests, errors: light.errors + heavy.errors, failure: outOfMemory(layout) ? "out of memory in the serial log" : null };
    },
    stop,
    say,
  });
  say(`memory floor ${floor} MiB (target ≤ ${GOALS.floorMi}: ${verdict(floor <= GOALS.floorMi)})`);
}

async function measure(config: LabConfig, spec: MicrovmSpec, options: Options, say: (line: string) => void): Promise<void> {
  const wrkBinary = findOnPath("wrk");
  if (wrkBinary === null) throw new Error("wrk is not on the PATH; install it (apt-get install wrk)");
  const wrk = await createWrkEngine(wrkBinary);
  // A stack name of its own: a fresh build folder, removed at the end, never the stack's own.
  const buildStack = `targets-${process.pid}`;
  const plan = microvmPlan(buildStack, options.variant, spec, config.images, PROJECT_DIR);
  const { layout } = plan;
  const stop = () => run(plan.stop).catch(() => "");
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    say(`# Micro-VM targets: stack ${config.stackName}, ${options.variant} (${spec.cpus} vCPU, ${spec.memoryMb} MiB, accel asked ${spec.accel}), ${os.cpus().length} host cores`);
    const [, payloadSeconds] = await timed(() => run(plan.payload.argv, plan.payload.cwd));
    say(`payload (the unikernel's initrd step): ${payloadSeconds.toFixed(1)} s`);
    const { kernel, disk } = plan;
    const [, kernelSeconds] = await timed(() => run(kernel));
    const [, diskSeconds] = await timed(() => run(disk));
    const build = kernelSeconds + diskSeconds;
    say(`kernel + disk build: ${kernelSeconds.toFixed(1)} s + ${diskSeconds.toFixed(1)} s = ${build.toFixed(1)} s (target ≤ ${GOALS.buildSeconds}: ${verdict(build <= GOALS.buildSeconds)})`);
    const [[kernelAgain, diskAgain], cachedSeconds] = await timed(async () => [await run(kernel), await run(disk)]);
    const noOp = /is up to date/.test(kernelAgain) && /is up to date/.test(diskAgain);
    say(`cached rebuild: ${cachedSeconds.toFixed(2)} s, ${noOp ? "both steps up to date" : "a step rebuilt"} (target: nothing rebuilt: ${verdict(noOp)})`);

    const url = `http://127.0.0.1:${spec.hostPort}`;
    const pidFile = path.join(PROJECT_DIR, layout.pidFile);
    const boots: number[] = [];
    const rss: number[] = [];
    let clean = true;
    for (let i = 1; i <= options.boots; i++) {
      await run(plan.start([`127.0.0.1:${spec.hostPort}`]), PROJECT_DIR, (spec.healthTimeoutSeconds + 30) * 1000);
      try {
        const record = bootRecord(layout);
        boots.push(record.bootMs / 1000);
        const problems = await routeProblems(url);
        const context = { wrk, name: options.variant, spec, url, pidFile, accel: record.accel, outDir: path.join(options.out, `boot-${i}`) };
        const light = await loadPhase(context, "/api/light", LIGHT_SECONDS);
        const heavy = await loadPhase(context, "/api/heavy", HEAVY_SECONDS);
        const alive = await fetch(`${url}/health`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.ok, () => false);
        const oom = outOfMemory(layout);
        const peak = Math.max(light.peakRssMb ?? 0, heavy.peakRssMb ?? 0);
        rss.push(peak);
        const ok = problems.length === 0 && light.errors === 0 && heavy.errors === 0 && alive && !oom;
        clean &&= ok;
        say(
          `boot ${i} (${record.accel}): first 200 after ${(record.bootMs / 1000).toFixed(1)} s; routes ${problems.length === 0 ? "all correct" : problems.join("; ")}; ` +
            `${LIGHT_SECONDS} s /api/light: ${light.requests} responses, ${light.requestsPerSecond.toFixed(0)} req/s, ${light.errors} errors; ` +
            `${HEAVY_SECONDS} s /api/heavy: ${heavy.requests} responses, ${heavy.requestsPerSecond.toFixed(0)} req/s, ${heavy.errors} errors; ` +
            `${alive ? "alive" : "DEAD"} after the load${oom ? ", OUT OF MEMORY in the serial log" : ""}; QEMU peak RSS ${peak.toFixed(0)} MiB`,
        );
      } finally {
        await stop();
      }
    }
    const boot = median(boots);
    const peak = median(rss);
    say(`median first 200 on /health: ${boot.toFixed(1)} s over ${boots.length} boots (target ≤ ${GOALS.healthSeconds}: ${verdict(boot <= GOALS.healthSeconds)})`);
    say(`every route, then the load with 0 errors and the guest alive, not out of memory, on every boot: ${verdict(clean)}`);
    say(`bench sessions' files (results.json, report.md per boot and route): ${options.out}`);
    say(`median QEMU peak RSS after the load: ${peak.toFixed(0)} MiB for ${spec.memoryMb} MiB of guest RAM (target ≤ ${spec.memoryMb + GOALS.rssOverGuestMi}: ${verdict(peak <= spec.memoryMb + GOALS.rssOverGuestMi)})`);
    if (options.floor) await searchMicrovmFloor({ wrk, spec, options, plan, url, pidFile, stop, say });
  } finally {
    await stop();
    await run(["sh", "-c", plan.payload.deleteCommand], plan.payload.cwd).catch(() => "");
    // The folders of this run's own stack name: build (kernel, disk), run, payload.
    for (const dir of [path.dirname(path.dirname(layout.kernelDir)), path.dirname(layout.runDir), path.dirname(layout.payload)]) {
      fs.rmSync(path.join(PROJECT_DIR, dir), { recursive: true, force: true });
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const program = commandLine("vm:targets", { helpHint: "(run `npm run vm:targets -- --help` for usage)" })
    .description("Measure a micro-VM variant against issue 22's targets (build, boot, routes, load, QEMU RSS); prints each figure with met or MISSED.")
    .option("--stack <name>", "stack whose micro-VM config to use", "ci")
    .option("--variant <name>", "the micro-VM variant", "microvm-vm")
    .option("--boots <n>", "boots to take the median of", (v) => Number(v), 3)
    .option("--floor", "then search the memory floor (96..256 MiB, 32 MiB steps)", false)
    .option("--out <dir>", "where the bench sessions write their files", path.join(os.tmpdir(), `optivolt-microvm-targets-${process.pid}`));
  const exitCode = parseOrExitCode(program, argv);
  if (exitCode !== null) return exitCode;
  const options = program.opts<Options>();
  if (!Number.isInteger(options.boots) || options.boots < 1) {
    process.stderr.write(`vm:targets: --boots must be a whole number of boots, at least 1, got ${argv[argv.indexOf("--boots") + 1]}\n`);
    return 2;
  }
  let config: LabConfig;
  try {
    config = loadStackConfig(options.stack, PROJECT_DIR);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const spec = config.microvms[options.variant];
  if (spec === undefined) {
    process.stderr.write(`vm:targets: the ${config.stackName} stack has no micro-VM named ${options.variant}; use one of ${Object.keys(config.microvms).join(", ") || "(none)"}\n`);
    return 2;
  }
  await measure(config, spec, options, (line) => process.stdout.write(`${line}\n`));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`vm:targets: ${error.message}\n`);
    process.exit(1);
  },
);
