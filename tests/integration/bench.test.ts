/**
 * The bench CLI end to end against a real web API container under the dev stack's microvm budget:
 * a short quick run writes a valid results.json, report.md and SVG charts, its CPU seconds agree
 * with the Docker engine's own counter, an unreachable target does not stop the others, and an
 * interrupt keeps what was measured.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseResults } from "../../bench/schema";
import { loadStackConfig } from "../../components/config";
import { ensureWebApiImages, freeLoopbackPort, removeContainer, requireDockerEngine, RunningVariant, runVariantContainer, waitForHealth } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const VARIANT = "microvm";

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[]): { child: ChildProcess; done: Promise<CliRun>; stderr: () => string } {
  const child = spawn(process.execPath, ["-r", "ts-node/register", "bench/cli.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
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

describe("bench CLI against a real variant container", function () {
  this.timeout(240_000);
  const spec = loadStackConfig("dev").variants[VARIANT];
  const name = `ovtest-bench-${VARIANT}-${process.pid}`;
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-bench-"));
  let container: RunningVariant | undefined;

  before(async function () {
    this.timeout(900_000); // first image build on a cold cache
    await requireDockerEngine();
    await ensureWebApiImages();
    await removeContainer(name);
    container = await runVariantContainer({ name, target: spec.target, cpus: spec.cpus, memoryMb: spec.memoryMb });
    await waitForHealth(container.url, 30_000);
  });

  after(async () => {
    await removeContainer(name);
    fs.rmSync(outRoot, { recursive: true, force: true });
  });

  it("rejects a bad flag with the usage and exit code 2", async () => {
    const run = await startCli(["--target", "a=http://127.0.0.1:1", "--bogus"]).done;
    assert.strictEqual(run.code, 2);
    assert.match(run.stderr, /error: unknown option '--bogus'/);
    assert.match(run.stderr, /Usage: npm run bench --/);
  });

  it("measures the container, reports the unreachable target, and agrees with the engine's CPU counter", async () => {
    const c = container as RunningVariant;
    const out = path.join(outRoot, "quick");
    const gone = await freeLoopbackPort();
    const cpuBefore = await engineCpuSeconds(c.id);
    const run = await startCli([
      "--mode", "quick",
      "--target", `${VARIANT}=${c.url},cpus=${spec.cpus},memoryMb=${spec.memoryMb},container=${name}`,
      "--target", `gone=http://127.0.0.1:${gone}`,
      "--endpoints", "/api/light,/",
      "--duration", "3",
      "--warmup", "1",
      "--out", out,
    ]).done;
    const cpuAfter = await engineCpuSeconds(c.id);
    assert.strictEqual(run.code, 1, `exit 1 because one target was unreachable\n${run.stderr}`);

    const results = parseResults(JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")));
    assert.strictEqual(results.complete, true);
    const [measured, unreachable] = results.variants;
    assert.strictEqual(unreachable.status, "unreachable");
    assert.match(unreachable.detail ?? "", /connection refused/);
    assert.strictEqual(measured.status, "measured");
    assert.strictEqual(measured.container?.id, c.id);
    assert.deepStrictEqual(measured.warnings, [], "declared budget equals the enforced limits");
    assert.deepStrictEqual(measured.runs.map((r) => r.endpoint), ["/api/light", "/"]);

    for (const r of measured.runs) {
      assert.ok(r.responses > 100, `${r.endpoint}: ${r.responses} responses`);
      assert.strictEqual(r.errors.non2xx + r.errors.connect + r.errors.socket + r.errors.timeouts, 0);
      assert.ok(r.latencyMs.p50 <= r.latencyMs.p90 && r.latencyMs.p90 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max);
      const server = r.server;
      assert.ok(server !== null && server.cpuSeconds > 0 && server.peakMemoryMb > 5 && server.peakMemoryMb < spec.memoryMb);
      // CFS cannot hand a 1-CPU container more than ~1 CPU-second per second (5 % for period edges).
      assert.ok(server.cpuSeconds <= spec.cpus * r.durationSeconds * 1.05, `${server.cpuSeconds} CPU-s in ${r.durationSeconds} s`);
    }

    // Every second the bench recorded (warm-ups + measured windows) is a slice of the engine's
    // counter over the whole CLI run. What lies outside those slices is the reachability probe
    // and the idle gaps between runs (a few ms of stats calls each), so the two must agree
    // within 0.25 CPU-s + 5 %, and the recorded total can never exceed the engine's.
    const recorded = measured.runs.reduce((sum, r) => sum + (r.server?.cpuSeconds ?? 0) + (r.warmupCpuSeconds ?? 0), 0);
    const engine = cpuAfter - cpuBefore;
    assert.ok(recorded <= engine + 0.01, `recorded ${recorded} CPU-s > engine ${engine} CPU-s`);
    assert.ok(engine - recorded <= 0.25 + 0.05 * engine, `recorded ${recorded} CPU-s vs engine ${engine} CPU-s`);

    const report = fs.readFileSync(path.join(out, "report.md"), "utf8");
    assert.match(report, new RegExp(`\\| \\*\\*${VARIANT}\\*\\* \\(baseline\\) \\| ✅ measured \\|`));
    assert.match(report, /\| \*\*gone\*\* \| ❌ unreachable: /);
    assert.match(report, /## Efficiency/);
    assert.match(report, /Estimate \(no RAPL on this host\)|Measured \(RAPL package counters\)/);
    for (const chart of ["throughput", "latency"]) {
      assert.ok(report.includes(`(charts/${chart}.svg)`), `report links ${chart}.svg`);
      assert.match(fs.readFileSync(path.join(out, "charts", `${chart}.svg`), "utf8"), /^<svg[\s\S]*<\/svg>$/);
    }
  });

  it("keeps what it measured when interrupted", async () => {
    const c = container as RunningVariant;
    const out = path.join(outRoot, "interrupted");
    const cli = startCli(["--target", `${VARIANT}=${c.url}`, "--endpoints", "/api/light,/", "--duration", "60", "--warmup", "1", "--out", out]);
    // Interrupt two seconds into the measured run (after its warm-up).
    await waitFor(() => /\[bench\] microvm \/api\/light c=50 \(60 s\)/.test(cli.stderr()), 60_000, "the measured run to start");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    cli.child.kill("SIGINT");
    const run = await cli.done;
    assert.strictEqual(run.code, 130, run.stderr);

    const results = parseResults(JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")));
    assert.strictEqual(results.complete, false);
    const [variant] = results.variants;
    assert.strictEqual(variant.runs.length, 1, "the second endpoint never started");
    const [partial] = variant.runs;
    assert.strictEqual(partial.partial, true);
    assert.ok(partial.responses > 0 && partial.durationSeconds > 1 && partial.durationSeconds < 30, `${partial.responses} in ${partial.durationSeconds} s`);
    assert.strictEqual(variant.budget.source, "container", "budget read from the container when none is declared");
    assert.strictEqual(variant.budget.cpus, spec.cpus);
    assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /Interrupted run/);
  });
});
