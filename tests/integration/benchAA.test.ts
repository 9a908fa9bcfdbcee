/**
 * The A/A test of `compare`: one real container of the ci stack's microvm (image built from
 * images/Dockerfile on the local bases, pinned to core 0), benched again and again with nothing
 * changed. Two sessions of one repetition: no row `changed`. Two sessions of three repetitions:
 * no row `changed`: `within noise`, or `the machine changed` where the machine's readings moved. Then a
 * real change, the same container with a quarter of its CPU quota: `/api/light` `changed`. Short runs (5 s after a 2 s warm-up, two endpoints) keep it
 * within a few minutes.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_GENERATOR_IMAGE } from "../../bench/cli/args";
import { compareResults } from "../../bench/report/compare";
import { ComparisonLine, MACHINE_CHANGED, NOT_EVIDENCE, NOT_SERVER_BOUND } from "../../bench/report/comparison";
import { BenchResults, parseResults } from "../../bench/schema";
import { loadStackConfig } from "../../model/config";
import { docker, ensureWebApiImages, imageExists, removeContainer, requireDockerEngine, RunningVariant, runVariantContainer, waitForHealth } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const VARIANT = "microvm";
const GENERATOR_IMAGE = process.env.OPTIVOLT_LOADGEN_IMAGE ?? DEFAULT_GENERATOR_IMAGE;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["-r", "ts-node/register", "bench/cli/cli.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OPTIVOLT_LOADGEN_IMAGE: GENERATOR_IMAGE } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const readResults = (dir: string): BenchResults => parseResults(JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")));
const machineText = (m: ComparisonLine["machine"]["old"]) => `reference ${m.referenceMs === null ? "?" : Math.round(m.referenceMs)} ms, others ${m.others === null ? "?" : `${Math.round(m.others * 100)} %`}`;
const describeLines = (lines: readonly ComparisonLine[]) =>
  lines
    .map((l) => `${l.endpoint}: ${Math.round(l.rps.old.median)} → ${Math.round(l.rps.new.median)} req/s (${l.rps.verdict}), p99 ${l.p99.old.median} → ${l.p99.new.median} ms (${l.p99.verdict}); machine ${machineText(l.machine.old)} → ${machineText(l.machine.new)}${l.machine.moved ? " (moved)" : ""}; ${l.caveats.join("; ")}`)
    .join("\n");

describe("bench compare, A/A on a real container", function () {
  this.timeout(900_000);
  const spec = loadStackConfig("ci").variants[VARIANT];
  const name = `ovtest-benchaa-${process.pid}-${VARIANT}`;
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-benchaa-"));
  let container: RunningVariant | undefined;

  /** One session on `/` and `/api/light`; returns its folder. */
  async function session(label: string, repetitions: number): Promise<string> {
    const c = container as RunningVariant;
    const out = path.join(outRoot, label);
    const target = `${VARIANT}=${c.url},cpus=${spec.cpus},memoryMb=${spec.memoryMb},container=${name}`;
    const run = await cli(["--target", target, "--endpoints", "/,/api/light", "--duration", "5", "--warmup", "2", "--repetitions", String(repetitions), "--out", out]);
    assert.strictEqual(run.code, 0, run.stderr);
    return out;
  }

  /** `npm run bench -- compare OLD NEW` through the CLI; the lines recomputed from the files it read. */
  async function compare(oldDir: string, newDir: string): Promise<ComparisonLine[]> {
    const run = await cli(["compare", oldDir, newDir]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.ok(fs.existsSync(path.join(newDir, "compare.svg")), "the comparison's chart");
    return compareResults(readResults(oldDir), readResults(newDir));
  }

  before(async () => {
    await requireDockerEngine();
    if (!(await imageExists(GENERATOR_IMAGE))) throw new Error(`the load generator image ${GENERATOR_IMAGE} is missing; build it with \`npm run images:base\` (as root)`);
    await ensureWebApiImages();
    await removeContainer(name);
    container = await runVariantContainer({ name, target: spec.target, cpus: spec.cpus, memoryMb: spec.memoryMb });
    await docker(["update", "--cpuset-cpus", "0", name]);
    await waitForHealth(container.url, 30_000);
  });

  after(async () => {
    await removeContainer(name);
    fs.rmSync(outRoot, { recursive: true, force: true });
  });

  it("compare --help prints its usage (exit 0)", async () => {
    const run = await cli(["compare", "--help"]);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stdout, /Usage: npm run bench -- compare \[options\] <OLD_DIR> <NEW_DIR>/);
  });

  it("two sessions of one repetition: no row `changed`, each says one repetition is not evidence", async () => {
    const a = await session("one-a", 1);
    const b = await session("one-b", 1);
    const lines = await compare(a, b);
    assert.strictEqual(lines.length, 2, describeLines(lines));
    for (const l of lines) assert.deepStrictEqual([l.rps.verdict, l.p99.verdict], [NOT_EVIDENCE, NOT_EVIDENCE], describeLines(lines));
    process.stdout.write(`      A/A (1 rep):\n${describeLines(lines).replace(/^/gm, "        ")}\n`);
    const md = fs.readFileSync(path.join(b, "compare.md"), "utf8");
    assert.doesNotMatch(md, /\| changed \|/);
    // The machine was measured alongside: a reference time and a steal share for every run.
    for (const run of readResults(b).variants[0].runs) assert.ok(run.referenceMs !== null && run.referenceMs > 0 && run.hostSteal !== null, JSON.stringify(run));
  });

  it("two sessions of three repetitions: every row within noise; a quarter of the CPU quota: /api/light changed", async () => {
    // Nothing changed, so every row must say `within noise`, `the machine changed` with the
    // machine's readings behind it, or that its runs did not measure the server (a busy host starves
    // the load generator's core). A `changed` is a false claim on a steady machine (fail at once);
    // on a machine the tool's own readings (reference workload, steal) show moving, the pair is
    // measured again, up to three pairs, and a host that moves through all three fails with them.
    const honest = (l: ComparisonLine) => [l.rps.verdict, l.p99.verdict].every((v) => v === "within noise" || v === NOT_SERVER_BOUND || (v === MACHINE_CHANGED && l.machine.explanation !== null));
    const attempts: string[] = [];
    let b: string | undefined;
    for (let attempt = 1; attempt <= 3 && b === undefined; attempt++) {
      const a1 = await session(`three-a${attempt}`, 3);
      const b1 = await session(`three-b${attempt}`, 3);
      const same = await compare(a1, b1);
      assert.strictEqual(same.length, 2);
      attempts.push(`pair ${attempt}:\n${describeLines(same)}`);
      if (same.every(honest)) b = b1;
      else assert.ok(same.filter((l) => !honest(l)).every((l) => l.machine.moved), `\`changed\` on a steady machine:\n${describeLines(same)}`);
    }
    process.stdout.write(`      A/A (3 reps):\n${attempts.join("\n").replace(/^/gm, "        ")}\n`);
    assert.ok(b !== undefined, `the machine moved during every A/A pair and a row said \`changed\`; an A/A comparison needs a steady machine:\n${attempts.join("\n")}`);

    await docker(["update", "--cpus", String(spec.cpus / 4), name]);
    const quarter = await session("quarter", 3);
    const changed = await compare(b, quarter);
    const light = changed.find((l) => l.endpoint === "/api/light");
    assert.strictEqual(light?.rps.verdict, "changed", describeLines(changed));
    assert.ok(light.rps.change < -0.5, describeLines(changed));
    process.stdout.write(`      quarter quota:\n${describeLines(changed).replace(/^/gm, "        ")}\n`);
  });
});
