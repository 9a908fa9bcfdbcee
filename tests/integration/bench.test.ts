/**
 * The bench CLI end to end against a real web API container (the dev stack's microvm budget, on
 * core 0), through the clean namespace path: the generator runs inside the variant's network
 * namespace on the other cores, the CPU seconds agree with the engine's own counter, docker-proxy
 * costs nothing, a host-bound run yields no conclusion, `compare` tells a 30 % change from a 3 %
 * one, a container killed mid-run is reported as such, and an interrupt keeps what was measured.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { DEFAULT_GENERATOR_IMAGE } from "../../bench/cli/args";
import { BenchResults, parseResults } from "../../bench/schema";
import { loadStackConfig } from "../../model/config";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { ContainerInspect, docker, ensureWebApiImages, freeLoopbackPort, imageExists, inspectContainer, removeContainer, requireDockerEngine, RunningVariant, runVariantContainer, waitForHealth } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const VARIANT = "microvm";
const GENERATOR_IMAGE = process.env.OPTIVOLT_LOADGEN_IMAGE ?? DEFAULT_GENERATOR_IMAGE;
/** The variant runs on core 0; the generator must get every other core. */
const VARIANT_CPUSET = "0";
const GENERATOR_CPUSET = os.cpus().length === 2 ? "1" : `1-${os.cpus().length - 1}`;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[]): { child: ChildProcess; done: Promise<CliRun>; stderr: () => string } {
  const child = spawn(process.execPath, ["-r", "ts-node/register", "bench/cli/cli.ts", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, OPTIVOLT_LOADGEN_IMAGE: GENERATOR_IMAGE },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

/** The engine's cumulative CPU counter for a container, read straight from its API (not through bench code). */
function engineCpuSeconds(id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: "/var/run/docker.sock", path: `/containers/${id}/stats?stream=false&one-shot=true` }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve((JSON.parse(body) as { cpu_stats: { cpu_usage: { total_usage: number } } }).cpu_stats.cpu_usage.total_usage / 1e9));
      })
      .on("error", reject);
  });
}

async function waitFor(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Inspects a container as soon as it exists (the generator starts a moment after the run's line). */
async function inspectWhenUp(container: string, deadlineMs: number): Promise<ContainerInspect> {
  const started = Date.now();
  for (;;) {
    try {
      return await inspectContainer(container);
    } catch (err) {
      if (Date.now() - started > deadlineMs) throw new Error(`no container ${container} within ${deadlineMs} ms: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const readResults = (dir: string): BenchResults => parseResults(JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")));

/** The dev stack's microvm under its limits, pinned to core 0 like a `cpuset: "0"` variant. */
async function startVariant(name: string): Promise<RunningVariant> {
  const spec = loadStackConfig("dev").variants[VARIANT];
  await removeContainer(name);
  const c = await runVariantContainer({ name, target: spec.target, cpus: spec.cpus, memoryMb: spec.memoryMb });
  await docker(["update", "--cpuset-cpus", VARIANT_CPUSET, name]);
  await waitForHealth(c.url, 30_000);
  return c;
}

describe("bench CLI on the clean path against a real variant container", function () {
  this.timeout(240_000);
  const spec = loadStackConfig("dev").variants[VARIANT];
  const prefix = `ovtest-bench-${process.env.OPTIVOLT_TEST_IMAGE_REPO?.replace(/[^a-z0-9-]/g, "-") ?? "main"}-${process.pid}`;
  const name = `${prefix}-${VARIANT}`;
  const victim = `${prefix}-victim`;
  const burner = `${prefix}-burner`;
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-bench-"));
  let container: RunningVariant | undefined;
  const target = () => `${VARIANT}=${(container as RunningVariant).url},cpus=${spec.cpus},memoryMb=${spec.memoryMb},container=${name}`;

  before(async function () {
    this.timeout(900_000); // first image build on a cold cache
    await requireDockerEngine();
    if (os.cpus().length < 2) throw new Error("the clean path needs 2 cores or more: one for the variant, one for the load generator");
    if (!(await imageExists(GENERATOR_IMAGE))) {
      throw new Error(`the load generator image ${GENERATOR_IMAGE} is missing; build it with \`npm run images:base\` (as root), which runs images/base/build-swarm-lab.sh`);
    }
    await ensureWebApiImages();
    container = await startVariant(name);
  });

  after(async () => {
    for (const c of [name, victim, burner]) await removeContainer(c);
    fs.rmSync(outRoot, { recursive: true, force: true });
  });

  it("answers a bad flag with the one error and a pointer to --help (exit 2)", async () => {
    const run = await startCli(["--target", "a=http://127.0.0.1:1", "--bogus"]).done;
    assert.strictEqual(run.code, 2);
    assert.strictEqual(run.stderr, "error: unknown option '--bogus'\nRun `npm run bench -- --help` for every flag (or `npm run bench -- compare --help`).\n");
  });

  it("runs the generator in the variant's namespace on its own cores; docker-proxy costs 0; CPU agrees with the engine", async () => {
    const c = container as RunningVariant;
    const out = path.join(outRoot, "quick");
    const gone = await freeLoopbackPort();
    const cpuBefore = await engineCpuSeconds(c.id);
    const cli = startCli(["--target", target(), "--target", `gone=http://127.0.0.1:${gone}`, "--endpoints", "/api/light,/", "--duration", "3", "--warmup", "1", "--out", out]);
    // While a measured run goes on, look at the generator container as the engine sees it.
    await waitFor(() => /\[bench\] microvm \/api\/light c=50 \(3 s\)/.test(cli.stderr()), 60_000, "the measured run to start");
    // The CLI is the spawned node process itself (ts-node in-process), so its pid names the generator.
    const generator = await inspectWhenUp(`${name}-loadgen-${cli.child.pid}`, 10_000);
    const generatorHost = generator as unknown as { HostConfig: { NetworkMode: string; CpusetCpus: string } };
    assert.strictEqual(generatorHost.HostConfig.NetworkMode, `container:${c.id}`);
    assert.strictEqual(generatorHost.HostConfig.CpusetCpus, GENERATOR_CPUSET);
    const run = await cli.done;
    const cpuAfter = await engineCpuSeconds(c.id);
    assert.strictEqual(run.code, 1, `exit 1 because one target was unreachable\n${run.stderr}`);

    const results = readResults(out);
    assert.strictEqual(results.settings.path, "namespace");
    const [measured, unreachable] = results.variants;
    assert.strictEqual(unreachable.status, "unreachable");
    assert.strictEqual(measured.status, "measured");
    assert.deepStrictEqual(measured.generator, { image: GENERATOR_IMAGE, network: `container:${name}`, cpuset: GENERATOR_CPUSET });
    assert.deepStrictEqual(measured.enforced, { cpus: spec.cpus, memoryMb: spec.memoryMb, cpuset: VARIANT_CPUSET });
    assert.strictEqual(measured.notMeasurable, null);
    assert.deepStrictEqual(measured.warnings, [], "declared budget equals the enforced limits");
    assert.deepStrictEqual(measured.runs.map((r) => r.endpoint), ["/api/light", "/"]);
    for (const r of measured.runs) {
      assert.ok(r.responses > 100, `${r.endpoint}: ${r.responses} responses`);
      assert.strictEqual(r.errors.non2xx + r.errors.connect + r.errors.socket + r.errors.timeouts, 0);
      assert.ok(r.client.cpuSeconds > 0, "the generator's own CPU time, read inside its container");
      // The published port's docker-proxy (when the engine runs one) carried none of this load.
      assert.ok(r.proxyCpuSeconds === null || r.proxyCpuSeconds <= 0.01, `docker-proxy ${r.proxyCpuSeconds} CPU-s`);
      const server = r.server;
      assert.ok(server !== null && server.cpuSeconds > 0 && server.cpuSeconds <= spec.cpus * r.durationSeconds * 1.05);
    }
    // Every recorded second (warm-ups + measured windows) is a slice of the engine's counter over the CLI run.
    const recorded = measured.runs.reduce((sum, r) => sum + (r.server?.cpuSeconds ?? 0) + (r.warmupCpuSeconds ?? 0), 0);
    const engine = cpuAfter - cpuBefore;
    assert.ok(recorded <= engine + 0.01, `recorded ${recorded} CPU-s > engine ${engine} CPU-s`);
    assert.ok(engine - recorded <= 0.25 + 0.05 * engine, `recorded ${recorded} CPU-s vs engine ${engine} CPU-s`);

    assert.match(run.stderr, /^OptiVolt bench: quick mode, 1 variant × 2 endpoints × 1 repetition = 2 runs$/m, "plan header");
    assert.match(run.stdout, /endpoint +variant +req\/s/, "comparison table at the end");
    const report = fs.readFileSync(path.join(out, "report.md"), "utf8");
    assert.match(report, /\*\*Measuring path:\*\* namespace/);
    assert.match(report, new RegExp(`wrk in ${name}'s network namespace → 127\\.0\\.0\\.1:8000 \\(no docker-proxy, no NAT\\); generator on cores? ${GENERATOR_CPUSET}`));
    for (const chart of ["throughput", "latency"]) {
      assert.ok(report.includes(`(charts/${chart}.svg)`), `report links ${chart}.svg`);
      assert.match(fs.readFileSync(path.join(out, "charts", `${chart}.svg`), "utf8"), /^<svg[\s\S]*<\/svg>$/);
    }
    assert.ok(!fs.existsSync(path.join(out, "charts", "stress.svg")), "stress.svg only in stress mode");
  });

  it("draws no conclusion from a host-bound run", async () => {
    const out = path.join(outRoot, "host-bound");
    // The generator image is wrk alone (no shell): the burner runs on the Debian base.
    // Two spinning loops on every core with the highest CPU weight: the host is saturated and
    // neither the server nor the generator gets much of it, so the run is host-bound.
    await removeContainer(burner);
    await docker(["run", "--detach", "--name", burner, "--cpu-shares", "262144", "--entrypoint", "bash", LOCAL_BASE_IMAGES.nodeImage, "-c", "for i in $(seq $(nproc)); do while :; do :; done & done; wait"]);
    let run: CliRun;
    try {
      run = await startCli(["--target", target(), "--endpoints", "/api/light", "--duration", "3", "--warmup", "0", "--out", out]).done;
    } finally {
      await removeContainer(burner);
    }
    assert.strictEqual(run.code, 0, run.stderr);
    const [variant] = readResults(out).variants;
    assert.strictEqual(variant.runs[0].bottleneck.verdict, "host", variant.runs[0].bottleneck.reason);
    const report = fs.readFileSync(path.join(out, "report.md"), "utf8");
    const conclusions = report.slice(report.indexOf("## Conclusions"), report.indexOf("## How this was measured"));
    assert.match(conclusions, /No conclusion on \/api\/light: no run there was server-bound and whole \(microvm \(host-bound\)\)/);
    assert.doesNotMatch(conclusions, /per CPU on|serves \d+ %/);
    assert.match(run.stdout, /\/api\/light +microvm .* host-bound\n/);
  });

  it("compare flags a planted 30 % change and not a 3 % one (3 repetitions, spread 6 %), calls one repetition not evidence, and refuses bad input with exit 2", async () => {
    const base = readResults(path.join(outRoot, "quick"));
    // The measured session as three repetitions at ×0.97, ×1 and ×1.03 of its runs, times `factor`.
    const plant = (dir: string, factor: number, repetitions = [0.97, 1, 1.03]) => {
      const copy = JSON.parse(JSON.stringify(base)) as BenchResults;
      copy.settings.repetitions = repetitions.length;
      for (const v of copy.variants) {
        v.runs = repetitions.flatMap((spread, repetition) => v.runs.map((r) => ({ ...r, repetition, responses: Math.round(r.responses * factor * spread) })));
      }
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify(copy));
      return dir;
    };
    const old = plant(path.join(outRoot, "three"), 1);
    const once = await startCli(["compare", path.join(outRoot, "quick"), plant(path.join(outRoot, "once-plus30"), 1.3, [1])]).done;
    assert.strictEqual(once.code, 0, once.stderr);
    assert.match(once.stdout, /microvm +\/api\/light +\S+ → \S+ +\+30 % .* one repetition: not evidence/);
    const up30 = await startCli(["compare", old, plant(path.join(outRoot, "plus30"), 1.3)]).done;
    assert.strictEqual(up30.code, 0, up30.stderr);
    assert.match(up30.stdout, /microvm +\/api\/light +\S+ → \S+ +\+30 % .* changed/);
    assert.ok(fs.existsSync(path.join(outRoot, "plus30", "compare.md")));
    const up3 = await startCli(["compare", old, plant(path.join(outRoot, "plus3"), 1.03)]).done;
    assert.strictEqual(up3.code, 0, up3.stderr);
    assert.match(up3.stdout, /microvm +\/api\/light +\S+ → \S+ +\+3 % .* within noise/);
    const bad = await startCli(["compare", old, outRoot]).done;
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /^error: .* has no results\.json.*\nRun `npm run bench -- compare --help`/);
  });

  it("reports a container killed mid-run as such, not as the error it causes", async () => {
    const c = await startVariant(victim);
    const out = path.join(outRoot, "killed");
    const cli = startCli(["--target", `${VARIANT}=${c.url},container=${victim}`, "--endpoints", "/api/light,/", "--duration", "60", "--warmup", "0", "--out", out]);
    await waitFor(() => /\[bench\] microvm \/api\/light c=50 \(60 s\)/.test(cli.stderr()), 60_000, "the measured run to start");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await docker(["kill", victim]);
    const started = Date.now();
    const run = await cli.done;
    assert.ok(Date.now() - started < 30_000, "the run ends soon after the container dies, not at its 60 s");
    assert.strictEqual(run.code, 1, run.stderr);
    const message = "`microvm` exited (exit code 137: killed) during /api/light";
    assert.ok(run.stderr.includes(`[bench] ${message}\n`), run.stderr);
    assert.doesNotMatch(run.stderr, /ENOENT/);
    const [variant] = readResults(out).variants;
    assert.deepStrictEqual([variant.status, variant.detail, variant.runs.length], ["failed", message, 0]);
  });

  it("keeps what it measured when interrupted, labelled partial", async () => {
    const out = path.join(outRoot, "interrupted");
    const cli = startCli(["--target", `${VARIANT}=${(container as RunningVariant).url},container=${name}`, "--endpoints", "/api/light,/", "--duration", "60", "--warmup", "1", "--out", out]);
    await waitFor(() => /\[bench\] microvm \/api\/light c=50 \(60 s\)/.test(cli.stderr()), 60_000, "the measured run to start");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    cli.child.kill("SIGINT");
    const run = await cli.done;
    assert.strictEqual(run.code, 130, run.stderr);
    assert.match(run.stderr, /\n\[bench\] interrupted: finishing the current run/);

    const results = readResults(out);
    assert.strictEqual(results.complete, false);
    const [variant] = results.variants;
    assert.strictEqual(variant.runs.length, 1, "the second endpoint never started");
    const [partial] = variant.runs;
    assert.strictEqual(partial.partial, true);
    assert.ok(partial.responses > 0 && partial.durationSeconds > 1 && partial.durationSeconds < 30, `${partial.responses} in ${partial.durationSeconds} s`);
    assert.strictEqual(variant.budget.source, "container", "per-CPU figures use the enforced limits");
    assert.strictEqual(variant.budget.cpus, spec.cpus);
    assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /Interrupted run[\s\S]*⚠️ partial/);
    assert.match(run.stdout, /^PARTIAL: interrupted/m);
  });
});
