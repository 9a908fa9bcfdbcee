/**
 * Measures the source-built unikernel against issue 15's goals and prints them:
 *
 *   npm run unikernel:targets -- [--stack ci] [--boots 3] [--memory MIB] [--floor]
 *
 * Builds the kernel from the stack's archives into a fresh folder (timed), again (cached: timed),
 * builds the initrd, then boots it N times under the acceleration `auto` resolves to: time from
 * QEMU's start to the first 200 on /health, every route, 10 s of /api/light, QEMU's peak RSS.
 * `--floor` then searches the smallest guest RAM, in 32 MiB steps, that serves 10 s of /api/light
 * then 30 s of /api/heavy, each at the bench's concurrency (50 connections), with no error. Everything it starts is stopped and removed at the end.
 * Every load is one bench session (`runSession`): the booted guest is a QEMU variant, autocannon loads
 * it from the host through the forwarded port; `--out DIR` keeps each session's results.json and report.md.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MODE_DEFAULTS } from "../cli/args";
import { describeMachine } from "../counters/machine";
import { statusField } from "../counters/proc";
import { createAutocannonEngine } from "../engines/autocannon";
import { median } from "../numbers/stats";
import { publishedPath } from "../reach/paths";
import { prepareVariant } from "../reach/prepare";
import { Target } from "../reach/targets";
import { userlandProxyState } from "../reach/userlandProxy";
import { ACCELS, BenchSettings, Provenance } from "../schema";
import { createProgress, Progress } from "../session/progress";
import { runSession } from "../session/session";
import { loadStackConfig, UnikernelConfig } from "../../model/config";
import { UNIKERNEL_VARIANT, UNIKERNEL_VCPUS } from "../../components/unikernel";
import { initrdBuildCommand, initrdDeleteCommand, kernelBuildCommand, qemuStartCommand, qemuStopCommand, sourceLayout, SourceLayout } from "../../components/unikernel/source";
import { commandLine, parseOrExitCode } from "../../tooling/commandLine";
import { guestLoadSettings, routeProblems, searchFloor, timed, verdict } from "./guestChecks";

const UNIKERNEL_DIR = path.resolve(__dirname, "..", "..", "unikernel");
const PROJECT_DIR = path.resolve(UNIKERNEL_DIR, "..");
const FLOOR_STEP_MI = 32;
const LOAD_SECONDS = 10;
/**
 * The floor's /api/heavy lasts as long as a bench run with a warm-up (`--warmup 20` + 10 s): the
 * guest's memory grows with the answers it has sent, and a 10 s load passed at sizes a bench run killed.
 */
const FLOOR_HEAVY_SECONDS = 30;
/** The bench's own concurrency (quick and full modes): a floor below it would crash under `npm run bench`. */
const CONNECTIONS = MODE_DEFAULTS.quick.connections;
/**
 * Per-request deadline. An emulated guest queues 50 connections for seconds, and a SYN the guest
 * drops in the first burst is retried after 1, 2, 4 and 8 s: 30 s separates slow from failed.
 */
const REQUEST_TIMEOUT_SECONDS = 30;
/** Goals from the issue. */
const GOALS = { buildSeconds: 60, healthSeconds: 10, rssOverGuestMi: 64 };

function sh(command: string, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("/bin/sh", ["-c", command], { cwd: UNIKERNEL_DIR, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command.split(" ").slice(0, 3).join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}


/** QEMU's peak resident size since it started (VmHWM: boot and every load so far), in MiB. */
function peakResidentMi(pid: number): number {
  const kb = Number(statusField(fs.readFileSync(`/proc/${pid}/status`, "utf8"), "VmHWM")?.replace(/\s*kB$/, ""));
  if (!Number.isFinite(kb)) throw new Error(`/proc/${pid}/status has no VmHWM`);
  return kb / 1024;
}

interface Load {
  requests: number;
  errors: number;
  non2xx: number;
  perSecond: number;
  /** Why the session could not measure the guest (QEMU exited during the load, ...); null: it did. */
  failure: string | null;
}

/** Where the study's bench sessions write their files and show their progress. */
interface Sessions {
  outDir: string;
  progress: Progress;
  provenance: Omit<Provenance, "energySource">;
}

/** What every session's results.json says of where and how it ran. */
function sessionProvenance(argv: string[]): Sessions["provenance"] {
  return {
    machine: describeMachine(),
    tools: { node: process.version, autocannon: createAutocannonEngine().version },
    userlandProxy: userlandProxyState(),
    command: `npm run unikernel:targets -- ${argv.slice(2).join(" ")}`.trim(),
  };
}

/** The settings of one of the study's loads: the bench's quick run, one endpoint, no warm-up, through the published path. */
function loadSettings(endpoint: string, seconds: number): BenchSettings {
  return guestLoadSettings(UNIKERNEL_VARIANT, "autocannon", endpoint, seconds, REQUEST_TIMEOUT_SECONDS, "--target (npm run unikernel:targets: the guest it booted, through QEMU's forwarded port)");
}

/** The booted guest as the bench's QEMU variant: sampled from its process, budget its vCPUs and guest RAM. */
function guestTarget(run: Boot, memoryMi: number): Target {
  const accel = ACCELS.find((known) => known === run.accel) ?? null;
  return {
    name: UNIKERNEL_VARIANT,
    url: run.baseUrl,
    skipped: null,
    cpus: UNIKERNEL_VCPUS,
    memoryMb: memoryMi,
    budgetSource: "target",
    container: null,
    runtime: "node",
    qemu: { pidFile: run.pidFile, accel, guest: "unikernel" },
  };
}

/** `seconds` of `endpoint` at the bench's concurrency, as one bench session; its files go to `<out>/<label>`. */
async function load(run: Boot, memoryMi: number, endpoint: string, seconds: number, label: string, sessions: Sessions): Promise<Load> {
  const variant = await prepareVariant(guestTarget(run, memoryMi), null, os.cpus().length);
  await publishedPath(createAutocannonEngine()).attach([variant]);
  const plan = { startedAt: new Date().toISOString(), settings: loadSettings(endpoint, seconds), variants: [variant], provenance: sessions.provenance, outDir: path.join(sessions.outDir, label) };
  const { results } = await runSession(plan, new AbortController().signal, sessions.progress);
  const [guest] = results.variants;
  const measured = guest.runs[0];
  const failure = guest.status === "measured" ? null : (guest.detail ?? guest.status);
  if (measured === undefined) return { requests: 0, errors: 0, non2xx: 0, perSecond: 0, failure };
  const { connect, socket, timeouts, non2xx } = measured.errors;
  const perSecond = measured.durationSeconds === 0 ? 0 : measured.responses / measured.durationSeconds;
  return { requests: measured.responses, errors: connect + socket + timeouts, non2xx, perSecond, failure };
}

interface Boot {
  healthSeconds: number;
  accel: string;
  pid: number;
  pidFile: string;
  baseUrl: string;
}

async function boot(config: UnikernelConfig, layout: SourceLayout, port: number): Promise<Boot> {
  const out = await sh(qemuStartCommand(config, { layout, forwards: [`127.0.0.1:${port}`], variant: "unikernel" }), (config.healthTimeoutSeconds + 30) * 1000);
  const health = /answered (\d+(?:\.\d+)?) s after QEMU started/.exec(out);
  const accel = /^accel=(\w+)/m.exec(out);
  if (!health || !accel) throw new Error(`qemu.sh start printed no health time or accel:\n${out}`);
  const pid = Number(fs.readFileSync(layout.pidFile, "utf8").trim());
  return { healthSeconds: Number(health[1]), accel: accel[1], pid, pidFile: layout.pidFile, baseUrl: `http://127.0.0.1:${port}` };
}



/** What the boots and the floor search share: the guest's config, where it lives, how to report and stop it. */
interface Guest {
  config: UnikernelConfig;
  layout: SourceLayout;
  port: number;
  sessions: Sessions;
  say: (line: string) => void;
  stop: () => Promise<unknown>;
}

/** Boots the guest `boots` times: /health time, every route, 10 s of /api/light, QEMU's peak RSS; then the medians against the goals. */
async function measureBoots({ config, layout, port, sessions, say, stop }: Guest, boots: number): Promise<void> {
  const healths: number[] = [];
  const rssPeaks: number[] = [];
  for (let i = 1; i <= boots; i++) {
    const run = await boot(config, layout, port);
    try {
      const problems = await routeProblems(run.baseUrl);
      const light = await load(run, config.memoryMi, "/api/light", LOAD_SECONDS, `boot-${i}-light`, sessions);
      const peakMi = peakResidentMi(run.pid);
      healths.push(run.healthSeconds);
      rssPeaks.push(peakMi);
      say(
        `boot ${i} (${run.accel}): /health after ${run.healthSeconds.toFixed(1)} s; routes ${problems.length === 0 ? "all correct" : problems.join("; ")}; ` +
          `10 s /api/light (${CONNECTIONS} connections): ${light.requests} requests, ${light.perSecond.toFixed(0)} req/s, ${light.errors} errors, ${light.non2xx} non-2xx` +
          `${light.failure === null ? "" : ` (${light.failure})`}; QEMU peak RSS ${peakMi.toFixed(0)} MiB`,
      );
    } finally {
      await stop();
    }
  }
  const health = median(healths);
  const rss = median(rssPeaks);
  say(`median /health: ${health.toFixed(1)} s (target ≤ ${GOALS.healthSeconds}: ${verdict(health <= GOALS.healthSeconds)})`);
  say(`median QEMU peak RSS: ${rss.toFixed(0)} MiB for ${config.memoryMi} MiB of guest RAM (target ≤ ${config.memoryMi + GOALS.rssOverGuestMi}: ${verdict(rss <= config.memoryMi + GOALS.rssOverGuestMi)})`);
}

/** The smallest guest RAM, in FLOOR_STEP_MI steps between 128 (taken to fail) and 640 MiB, that serves /api/light then /api/heavy with no error. */
async function searchUnikernelFloor({ config, layout, port, sessions, say, stop }: Guest): Promise<void> {
  await searchFloor({
    guest: "the unikernel",
    failsMi: 128,
    servesMi: 640,
    stepMi: FLOOR_STEP_MI,
    boot: (memoryMi) => boot({ ...config, memoryMi, healthTimeoutSeconds: 60 }, layout, port),
    serve: async (run, memoryMi) => {
      const light = await load(run, memoryMi, "/api/light", LOAD_SECONDS, `floor-${memoryMi}MiB-light`, sessions);
      const heavy = await load(run, memoryMi, "/api/heavy", FLOOR_HEAVY_SECONDS, `floor-${memoryMi}MiB-heavy`, sessions);
      return {
        lightRequests: light.requests,
        heavyRequests: heavy.requests,
        errors: light.errors + light.non2xx + heavy.errors + heavy.non2xx,
        failure: light.failure ?? heavy.failure,
      };
    },
    stop,
    say,
  });
}

async function main(argv: string[]): Promise<void> {
  const program = commandLine("unikernel:targets")
    .option("--stack <name>", "stack whose unikernel config and archives to use", "ci")
    .option("--boots <n>", "boots to take the median of", (v) => Number(v), 3)
    .option("--memory <mib>", "guest RAM (default: the stack's unikernel.memoryMi)", (v) => Number(v))
    .option("--floor", "also search the memory floor (32 MiB steps)", false)
    .option("--port <port>", "loopback port to forward", (v) => Number(v), 18904)
    .option("--out <dir>", "keep each load's bench session files (results.json, report.md) here (default: removed with the rest)");
  // Exit 1 on a bad command line, as commander's own default did.
  const exitCode = parseOrExitCode(program, argv.slice(2), 1);
  if (exitCode !== null) process.exit(exitCode);
  const options = program.opts<{ stack: string; boots: number; memory?: number; floor: boolean; port: number; out?: string }>();
  const stackConfig = loadStackConfig(options.stack);
  const config: UnikernelConfig = { ...stackConfig.unikernel, memoryMi: options.memory ?? stackConfig.unikernel.memoryMi };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "optivolt-unikernel-targets-"));
  const layout: SourceLayout = { ...sourceLayout(PROJECT_DIR, `targets-${process.pid}`), kernelDir: path.join(work, "kernel"), initrd: path.join(work, "initrd.cpio") };
  layout.kernel = path.join(layout.kernelDir, "elfloader_qemu-x86_64");
  const tags = { appTag: `optivolt-unikernel-targets-app:${process.pid}`, payloadTag: `optivolt-unikernel-targets-initrd:${process.pid}` };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const stop = () => sh(qemuStopCommand(layout)).catch(() => undefined);
  const sessions: Sessions = { outDir: options.out ?? path.join(work, "sessions"), progress: createProgress(), provenance: sessionProvenance(argv) };
  const guest: Guest = { config, layout, port: options.port, sessions, say, stop };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    say(`# Unikernel targets: stack ${options.stack}, ${os.cpus().length} cores, guest ${config.memoryMi} MiB, TCG cache ${config.tcgCacheMi} MiB`);
    const kernelCommand = kernelBuildCommand(config.source, layout, PROJECT_DIR);
    const [, buildSeconds] = await timed(() => sh(kernelCommand));
    const [, cachedSeconds] = await timed(() => sh(kernelCommand));
    say(`kernel build from the archives: ${buildSeconds.toFixed(1)} s (target ≤ ${GOALS.buildSeconds}: ${verdict(buildSeconds <= GOALS.buildSeconds)}); again, cached: ${cachedSeconds.toFixed(2)} s`);
    const [, initrdSeconds] = await timed(() => sh(initrdBuildCommand(stackConfig.images, tags, layout)));
    say(`initrd build: ${initrdSeconds.toFixed(1)} s, ${(fs.statSync(layout.initrd).size / 1048576).toFixed(1)} MiB`);

    await measureBoots(guest, options.boots);
    if (options.floor) await searchUnikernelFloor(guest);
  } finally {
    await stop();
    await sh(initrdDeleteCommand(tags, layout)).catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main(process.argv).catch((error: Error) => {
  process.stderr.write(`unikernel:targets: ${error.message}\n`);
  process.exit(1);
});
