import * as assert from "assert";
import { BenchOptions, DEFAULT_ENDPOINTS, parseArgs, usage } from "../../bench/cli/args";
import { UsageError } from "../../bench/errors";
import { parseTargetSpec, targetsFromStackOutputs } from "../../bench/reach/targets";
import { isLoopbackHost } from "../../tooling/loopback";

const NOW = new Date("2026-11-27T08:00:00.000Z");
const parse = (...argv: string[]) => {
  const options = parseArgs(argv, NOW);
  assert.notStrictEqual(options, "help");
  return options as BenchOptions;
};
const usageError = (argv: string[], message: RegExp) =>
  assert.throws(() => parseArgs(argv, NOW), (err: unknown) => err instanceof UsageError && message.test(err.message));

describe("bench argument parsing", () => {
  it("defaults to a quick run of the seed's four endpoints", () => {
    const o = parse("--target", "standard=http://127.0.0.1:8001");
    assert.strictEqual(o.mode, "quick");
    assert.deepStrictEqual(o.endpoints, DEFAULT_ENDPOINTS);
    assert.deepStrictEqual(DEFAULT_ENDPOINTS, ["/", "/api/light", "/api/heavy", "/api/slow"]);
    assert.strictEqual(o.durationSeconds, 10);
    assert.strictEqual(o.warmupSeconds, 3);
    assert.strictEqual(o.connections, 50);
    assert.strictEqual(o.engine, "auto");
    assert.strictEqual(o.path, "namespace", "the clean path by default");
    assert.strictEqual(o.generatorImage, process.env.OPTIVOLT_LOADGEN_IMAGE ?? "optivolt/loadgen:wrk");
    assert.strictEqual(parse("--target", "a=http://127.0.0.1:1", "--path", "published", "--engine", "autocannon").path, "published");
    assert.strictEqual(o.baseline, null);
    assert.strictEqual(o.outDir, "bench-results/quick-2026-11-27T08-00-00-000Z");
  });

  it("takes full mode's 60 s and lets every figure be overridden", () => {
    assert.strictEqual(parse("--mode", "full", "--stack", "dev").durationSeconds, 60);
    const o = parse("--mode", "stress", "--stack", "dev", "--duration", "2.5", "--warmup", "0", "--connections", "4", "--max-connections", "64",
      "--max-error-rate", "0.05", "--max-p99-ms", "300", "--endpoints", "/api/light,/", "--baseline", "microvm", "--out", "x", "--repetitions", "3");
    assert.deepStrictEqual(o.source, { kind: "stack", stack: "dev" });
    assert.strictEqual(o.durationSeconds, 2.5);
    assert.strictEqual(o.warmupSeconds, 0);
    assert.strictEqual(o.connections, 4);
    assert.deepStrictEqual(o.stress, { maxErrorRate: 0.05, maxP99Ms: 300, maxConnections: 64 });
    assert.deepStrictEqual(o.endpoints, ["/api/light", "/"]);
    assert.strictEqual(o.baseline, "microvm");
    assert.strictEqual(o.repetitions, 3);
  });

  it("collects repeated --target options with their budgets", () => {
    const o = parse("--target", "standard=http://127.0.0.1:8001,cpus=2,memoryMb=512", "--target", "minimal=http://localhost:8003,container=lab-minimal");
    assert.ok(o.source.kind === "targets");
    assert.deepStrictEqual(
      o.source.targets.map((t) => [t.name, t.url, t.cpus, t.memoryMb, t.container, t.budgetSource]),
      [
        ["standard", "http://127.0.0.1:8001", 2, 512, null, "target"],
        ["minimal", "http://localhost:8003", null, null, "lab-minimal", "none"],
      ],
    );
  });

  it("takes --y-max for a fixed throughput axis (none by default) and refuses a non-positive one", () => {
    assert.strictEqual(parse("--target", "a=http://127.0.0.1:1").yMax, null);
    assert.strictEqual(parse("--target", "a=http://127.0.0.1:1", "--y-max", "50000").yMax, 50_000);
    usageError(["--target", "a=http://127.0.0.1:1", "--y-max", "0"], /--y-max <req\/s>' argument '0' is invalid\. must be a positive number/);
  });

  it("returns help for --help", () => {
    assert.strictEqual(parseArgs(["--help"]), "help");
    assert.match(usage(), /--target <spec>/);
  });

  it("rejects bad flags and values with a message", () => {
    usageError(["--stack", "dev", "--bogus"], /unknown option '--bogus'/);
    usageError(["--stack", "dev", "--mode", "fast"], /--mode <mode>' argument 'fast' is invalid/);
    usageError(["--stack", "dev", "--duration", "-1"], /must be a positive number, got "-1"/);
    usageError(["--stack", "dev", "--connections", "2.5"], /positive integer/);
    usageError(["--stack", "dev", "--endpoints", "api/light"], /must be a path starting with \//);
    usageError(["--stack", "dev", "--path", "proxy"], /--path <path>' argument 'proxy' is invalid/);
    usageError(["--stack", "dev", "--engine", "autocannon"], /autocannon .* cannot join a variant's namespace; use it with --path published/);
    usageError(["--stack", "dev", "--threads", "8", "--connections", "4"], /--threads 8 needs at least as many --connections/);
    usageError(["--stack", "dev", "--max-error-rate", "5"], /between 0 and 1/);
  });

  it("needs exactly one source of targets", () => {
    usageError([], /either --stack NAME or one or more --target/);
    usageError(["--stack", "dev", "--target", "a=http://127.0.0.1:1"], /not both/);
    usageError(["--target", "a=http://127.0.0.1:1", "--target", "a=http://127.0.0.1:2"], /two targets are named "a"/);
  });

  it("refuses to load anything but loopback", () => {
    usageError(["--target", "prod=http://10.0.0.5:8001"], /refusing to send load to 10\.0\.0\.5: only loopback/);
    usageError(["--target", "web=http://example.com"], /refusing to send load to example\.com/);
    assert.ok(isLoopbackHost("127.0.0.1") && isLoopbackHost("127.1.2.3") && isLoopbackHost("[::1]") && isLoopbackHost("LOCALHOST"));
    assert.ok(!isLoopbackHost("128.0.0.1") && !isLoopbackHost("0.0.0.0") && !isLoopbackHost("localhost.example.com"));
  });
});

describe("bench target specs", () => {
  it("rejects malformed specs with the expected shape", () => {
    assert.throws(() => parseTargetSpec("http://127.0.0.1:8001"), /expected name=URL/);
    assert.throws(() => parseTargetSpec("a=127.0.0.1:8001"), /only http:\/\/ URLs|not a URL/);
    assert.throws(() => parseTargetSpec("a=http://127.0.0.1:1,cpus=0"), /cpus must be a positive number, got "0"/);
    assert.throws(() => parseTargetSpec("a=http://127.0.0.1:1,gpus=1"), /unknown option "gpus"/);
    assert.throws(() => parseTargetSpec("Std=http://127.0.0.1:1"), /lower-case/);
  });
});

describe("bench stack outputs", () => {
  it("reads variants with budgets and keeps a skipped unikernel", () => {
    const targets = targetsFromStackOutputs(
      {
        endpoints: { standard: "http://127.0.0.1:8001" },
        variants: {
          standard: { cpus: 2, memoryMb: 512, url: "http://127.0.0.1:8001/", runtime: "bun" },
          unikernel: { cpus: 1, memoryMb: 256, status: "skipped: kraft not found" },
          old: "skipped: kraft not found",
        },
        grafanaUrl: "http://127.0.0.1:3000",
      },
      "dev",
    );
    assert.deepStrictEqual(targets[0], { name: "standard", url: "http://127.0.0.1:8001", skipped: null, cpus: 2, memoryMb: 512, budgetSource: "stack", container: null, runtime: "bun" });
    assert.strictEqual(targets[1].skipped, "skipped: kraft not found");
    assert.strictEqual(targets[1].url, null);
    assert.strictEqual(targets[2].skipped, "skipped: kraft not found");
  });

  it("falls back to endpoints and explains empty outputs", () => {
    assert.strictEqual(targetsFromStackOutputs({ endpoints: { a: "http://127.0.0.1:1" } }, "dev")[0].url, "http://127.0.0.1:1");
    assert.throws(() => targetsFromStackOutputs({}, "dev"), /no `variants` or `endpoints`; deploy with `pulumi up --stack dev`/);
  });

  it("bounds --sample-interval (Node clamps a timer beyond 2^31-1 ms to 1 ms) and refuses a stack name a shell would read", () => {
    const target = ["--target", "a=http://127.0.0.1:1"];
    for (const bad of ["3000000000", "5", "60001", "1.5"]) {
      usageError([...target, "--sample-interval", bad], new RegExp(`--sample-interval.*must be a whole number of milliseconds from 10 to 60000, got "${bad.replace(".", "\\.")}"`));
    }
    assert.strictEqual(parse(...target, "--sample-interval", "60000").sampleIntervalMs, 60000);
    assert.strictEqual(parse(...target).sampleIntervalMs, 250);
    usageError(["--stack", "dev;id"], /--stack: stack name "dev;id" is not valid: use letters, digits/);
    assert.deepStrictEqual(parse("--stack", "ci").source, { kind: "stack", stack: "ci" });
  });
});
