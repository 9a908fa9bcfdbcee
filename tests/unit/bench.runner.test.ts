import * as assert from "assert";
import { LoadEngine, LoadOutcome, LoadRequest } from "../../bench/engines/types";
import { PreparedVariant } from "../../bench/reach/prepare";
import { Progress } from "../../bench/session/progress";
import { runAll, RunnerContext } from "../../bench/session/runner";
import { ServerCounters } from "../../bench/counters/sampler";
import { BenchSettings } from "../../bench/schema";
import { makeResults, makeVariant } from "./bench-fixtures";

const notes: string[] = [];
const quiet: Progress = {
  header: () => undefined,
  begin: () => undefined,
  runStarted: () => undefined,
  runFinished: () => undefined,
  skip: () => undefined,
  note: (text) => notes.push(text),
  stop: () => undefined,
};

/** A load engine that answers at once: p99 grows with connections; URLs containing "broken" fail. */
function fakeEngine(calls: LoadRequest[], onRun: (r: LoadRequest) => void = () => undefined): LoadEngine {
  return {
    name: "wrk",
    version: "fake",
    async run(r: LoadRequest): Promise<LoadOutcome> {
      calls.push(r);
      onRun(r);
      if (r.url.includes("broken")) throw new Error("wrk failed: connection reset");
      return {
        durationSeconds: r.durationSeconds,
        responses: 1000,
        bytes: 1000,
        latencyMs: { p50: 1, p90: 2, p99: r.connections * 10, max: r.connections * 20, mean: 1 },
        errors: { connect: 0, socket: 0, timeouts: 0, non2xx: 0 },
        clientCpuSeconds: 0.1,
        clientCores: 1,
        partial: r.signal.aborted,
      };
    },
  };
}

/** Counters that advance by 0.25 CPU-s per reading. */
function fakeCounters(): ServerCounters {
  let ns = 0;
  return { source: "cgroup", read: async () => ({ cpuNs: (ns += 0.25e9), memoryBytes: 20 * 1024 * 1024 }) };
}

function prepared(name: string, engine: LoadEngine, stopped: () => Promise<string | null> = async () => null): PreparedVariant {
  const result = makeVariant(name, 1, 256, []);
  result.url = `http://127.0.0.1:1/${name}`;
  return { result, counters: fakeCounters(), proxyPid: null, container: null, qemu: null, load: { engine, url: result.url }, stopped };
}

function settings(overrides: Partial<BenchSettings> = {}): BenchSettings {
  return { ...makeResults().settings, endpoints: ["/a", "/b"], durationSeconds: 2, warmupSeconds: 1, connections: 4, ...overrides };
}

function context(s: BenchSettings, signal = new AbortController().signal): RunnerContext {
  return { settings: s, progress: quiet, signal };
}

describe("bench runner", () => {
  it("warms up before every measured run and interleaves repetitions across variants", async () => {
    const calls: LoadRequest[] = [];
    const engine = fakeEngine(calls);
    const variants = [prepared("one", engine), prepared("two", engine)];
    await runAll(context(settings({ repetitions: 2 })), variants);
    const order = calls.map((c) => `${new URL(c.url).pathname} ${c.durationSeconds}s`);
    assert.deepStrictEqual(order.slice(0, 8), ["/one/a 1s", "/one/a 2s", "/one/b 1s", "/one/b 2s", "/two/a 1s", "/two/a 2s", "/two/b 1s", "/two/b 2s"]);
    assert.strictEqual(order.length, 16);
    assert.deepStrictEqual(variants[0].result.runs.map((r) => [r.endpoint, r.repetition]), [["/a", 0], ["/b", 0], ["/a", 1], ["/b", 1]]);
    // Each sampling window spans two counter readings of 0.25 CPU-s apart.
    assert.strictEqual(variants[0].result.runs[0].server?.cpuSeconds, variants[0].result.runs[0].warmupCpuSeconds);
  });

  it("climbs the stress ladder until a threshold breaks, per endpoint", async () => {
    const calls: LoadRequest[] = [];
    const s = settings({ mode: "stress", warmupSeconds: 0, connections: 4, stress: { maxErrorRate: 0.01, maxP99Ms: 150, maxConnections: 64 } });
    const v = prepared("one", fakeEngine(calls));
    await runAll(context(s), [v]);
    // p99 = connections × 10 ms: 4, 8 hold; 16 (160 ms) breaks; the ladder restarts on the next endpoint.
    assert.deepStrictEqual(v.result.runs.map((r) => `${r.endpoint}@${r.connections}`), ["/a@4", "/a@8", "/a@16", "/b@4", "/b@8", "/b@16"]);
    assert.deepStrictEqual(v.result.runs.map((r) => r.step), [0, 1, 2, 0, 1, 2]);
  });

  it("marks a failing variant failed and still measures the next", async () => {
    const engine = fakeEngine([]);
    const variants = [prepared("broken", engine), prepared("fine", engine)];
    await runAll(context(settings()), variants);
    assert.strictEqual(variants[0].result.status, "failed");
    assert.match(variants[0].result.detail ?? "", /connection reset/);
    assert.strictEqual(variants[1].result.status, "measured");
    assert.strictEqual(variants[1].result.runs.length, 2);
  });

  it("stops on interrupt, keeps the partial run and marks unreached variants not-run", async () => {
    const interrupt = new AbortController();
    const calls: LoadRequest[] = [];
    // Interrupt during the first measured run (the second engine call).
    const engine = fakeEngine(calls, () => {
      if (calls.length === 2) interrupt.abort();
    });
    const variants = [prepared("one", engine), prepared("two", engine)];
    await runAll(context(settings(), interrupt.signal), variants);
    assert.strictEqual(calls.length, 2);
    assert.deepStrictEqual(variants[0].result.runs.map((r) => [r.endpoint, r.partial]), [["/a", true]]);
    assert.strictEqual(variants[1].result.status, "not-run");
    assert.match(variants[1].result.detail ?? "", /interrupted/);
  });

  it("says which container died and during which endpoint, not the raw error it caused", async () => {
    notes.length = 0;
    let alive = true;
    // The container dies during the second endpoint's measured run: its cgroup files vanish.
    const calls: LoadRequest[] = [];
    const engine = fakeEngine(calls, (r) => {
      if (r.url.endsWith("/b") && r.durationSeconds === 2) alive = false;
    });
    const v = prepared("standard", engine, async () => (alive ? null : "exited (OOM-killed)"));
    v.counters = {
      source: "cgroup",
      read: async () => {
        if (!alive) throw new Error("ENOENT: no such file or directory, open '/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage'");
        return { cpuNs: 1e9, memoryBytes: 1 };
      },
    };
    await runAll(context(settings()), [v]);
    assert.strictEqual(v.result.status, "failed");
    assert.strictEqual(v.result.detail, "`standard` exited (OOM-killed) during /b");
    assert.deepStrictEqual(v.result.runs.map((r) => r.endpoint), ["/a"], "no figures from the run the server died in");
    assert.ok(notes.includes("`standard` exited (OOM-killed) during /b"), notes.join("\n"));
  });
});
