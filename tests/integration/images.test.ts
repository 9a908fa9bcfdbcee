import * as assert from "assert";
import autocannon from "autocannon";
import * as os from "os";
import { loadStackConfig } from "../../model/config";
import { dockerfileTarget } from "../../model/naming";
import { workerCount } from "../../images/src/workers";
import {
  containerPeakMemoryBytes,
  docker,
  DockerCommandError,
  ensureWebApiImages,
  httpRequest,
  inspectContainer,
  removeContainer,
  requireDockerEngine,
  RunningVariant,
  sampleWorkingSet,
  runVariantContainer,
  sumSamples,
  testImageTag,
  waitForHealth,
} from "./support";
import { assertErrorAnswers, assertServesEveryRoute } from "./support/routeChecks";


const config = loadStackConfig("dev");
const variants = Object.entries(config.variants);
const prefix = `ovtest-webapi-${process.pid}`;

async function metricsText(url: string): Promise<string> {
  const answer = await httpRequest(`${url}/metrics`);
  assert.strictEqual(answer.status, 200);
  return answer.body.toString("utf8");
}

describe("web API images on a real Docker engine (dev stack limits, both runtimes)", function () {
  this.timeout(10 * 60_000);
  const running = new Map<string, RunningVariant>();

  before(async function () {
    await requireDockerEngine();
    await ensureWebApiImages();
    await Promise.all(
      variants.map(async ([name, spec]) => {
        const container = await runVariantContainer({
          name: `${prefix}-${name}`,
          target: spec.target,
          runtime: spec.runtime,
          cpus: spec.cpus,
          memoryMb: spec.memoryMb,
          env: { VARIANT: name, ...(spec.workers ? { WORKERS: String(spec.workers) } : {}) },
        });
        running.set(name, container);
        await waitForHealth(container.url, 30_000);
      }),
    );
  });

  after(async function () {
    await Promise.all([...running.values()].map((c) => removeContainer(c.name)));
  });

  for (const [name, spec] of variants) {
    describe(`${name} (target ${spec.target} on ${spec.runtime}, ${spec.cpus} CPU, ${spec.memoryMb} MB)`, function () {
      const url = () => running.get(name)!.url;

      it("serves every route with its status, content type and body size, and 404, 405 and 400 as JSON with a message", async function () {
        await assertServesEveryRoute(url(), name);
        await assertErrorAnswers(url());
      });

      it("answers /api/slow after about a second without holding up other requests", async function () {
        const started = Date.now();
        const slow = httpRequest(`${url()}/api/slow`);
        const light = await httpRequest(`${url()}/api/light`);
        const lightMs = Date.now() - started;
        const answer = await slow;
        const slowMs = Date.now() - started;
        assert.strictEqual(light.status, 200);
        assert.ok(lightMs < 500, `/api/light waited ${lightMs} ms behind /api/slow`);
        assert.strictEqual(answer.status, 200);
        assert.ok(slowMs >= 950 && slowMs < 3000, `/api/slow took ${slowMs} ms`);
      });

      it("counts the requests just made in /metrics (totals across workers)", async function () {
        const before = await metricsText(url());
        const count = 12;
        // A fresh connection each: with several workers, they land on different ones.
        for (let i = 0; i < count; i++) await httpRequest(`${url()}/api/light`);
        await httpRequest(`${url()}/not-here`);
        const after = await metricsText(url());
        const light = { route: "/api/light", status: "200" };
        assert.strictEqual(sumSamples(after, "http_requests_total", light) - sumSamples(before, "http_requests_total", light), count);
        const missing = { route: "unmatched", status: "404" };
        assert.strictEqual(sumSamples(after, "http_requests_total", missing) - sumSamples(before, "http_requests_total", missing), 1);
        const histogram = { route: "/api/light" };
        assert.strictEqual(
          sumSamples(after, "http_request_duration_seconds_count", histogram) - sumSamples(before, "http_request_duration_seconds_count", histogram),
          count,
        );
        assert.ok(sumSamples(after, "process_resident_memory_bytes") > 0, "process memory is reported");
        assert.ok(sumSamples(after, "process_cpu_seconds_total") > 0, "process CPU is reported");
      });

      it(`runs one ${spec.runtime} process per CPU of its quota`, async function () {
        const expected = workerCount({ override: spec.workers, quotaCpus: spec.cpus, availableCpus: os.availableParallelism() });
        const text = await metricsText(url());
        assert.strictEqual(sumSamples(text, "webapi_info", { runtime: spec.runtime }), expected, `processes reporting runtime ${spec.runtime}`);
        assert.strictEqual(sumSamples(text, "webapi_info"), expected, "workers reporting into /metrics");
        assert.strictEqual(sumSamples(text, "webapi_info", { workers: String(expected) }), expected);
      });

      it("runs under the stack's limits, as a non-root user", async function () {
        const inspect = await inspectContainer(running.get(name)!.name);
        assert.strictEqual(inspect.HostConfig.NanoCpus, Math.round(spec.cpus * 1e9));
        assert.strictEqual(inspect.HostConfig.Memory, spec.memoryMb * 1024 * 1024);
        assert.strictEqual(inspect.HostConfig.MemorySwap, spec.memoryMb * 1024 * 1024, "no swap beyond the limit");
        assert.notStrictEqual(inspect.Config.User, "", "an explicit user");
        assert.doesNotMatch(inspect.Config.User, /^(0|root)(:|$)/, "not root");
      });
    });
  }

  describe("minimal under load, on each runtime", function () {
    const minimals = variants.filter(([, spec]) => spec.target === "minimal");

    it("the dev stack has a minimal variant on node and on bun", function () {
      assert.deepStrictEqual(minimals.map(([, spec]) => spec.runtime).sort(), ["bun", "node"]);
    });

    for (const [name] of minimals) it(`${name} takes a 10 s burst on /api/light and /api/heavy at its memory limit: no errors, no OOM kill`, async function () {
      const container = running.get(name)!;
      const workingSet = sampleWorkingSet(container.id);
      const result = await autocannon({
        url: container.url,
        connections: 8,
        duration: 10,
        requests: [{ path: "/api/light" }, { path: "/api/heavy" }],
      });
      assert.ok(result.requests.total > 100, `only ${result.requests.total} requests completed`);
      assert.strictEqual(result.errors, 0, "connection errors");
      assert.strictEqual(result.timeouts, 0, "timeouts");
      assert.strictEqual(result.non2xx, 0, "non-2xx answers");
      const inspect = await inspectContainer(container.name);
      assert.strictEqual(inspect.State.OOMKilled, false, "OOM killed");
      assert.strictEqual(inspect.State.Running, true, "still running");
      assert.strictEqual(inspect.RestartCount, 0);
      const peakWorkingSet = await workingSet.stop();
      // The cgroup's own peak also counts page cache (e.g. the node binary, if this container read it
      // first), which the kernel reclaims under pressure: informative, not a pass/fail figure.
      const cgroupPeak = await containerPeakMemoryBytes(inspect.Id);
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
      console.log(`      ${name}: ${result.requests.total} requests in 10 s, working set peak ${mib(peakWorkingSet)} (cgroup peak incl. page cache ${mib(cgroupPeak)})`);
    });
  });

  describe("docker stop", function () {
    it("finishes in-flight requests and exits 0 within a few seconds, for every variant", async function () {
      await Promise.all(
        variants.map(async ([name]) => {
          const container = running.get(name)!;
          const inFlight = httpRequest(`${container.url}/api/slow?ms=800`);
          await new Promise((resolve) => setTimeout(resolve, 200)); // let the request reach the app
          const started = Date.now();
          await docker(["stop", "--time", "10", container.name]);
          const stopMs = Date.now() - started;
          const answer = await inFlight;
          assert.strictEqual(answer.status, 200, `${name}: the in-flight request was answered`);
          const inspect = await inspectContainer(container.name);
          assert.strictEqual(inspect.State.ExitCode, 0, `${name}: exit code`);
          assert.strictEqual(inspect.State.OOMKilled, false);
          assert.ok(stopMs < 5000, `${name}: docker stop took ${stopMs} ms`);
        }),
      );
    });
  });

  describe("bad environment", function () {
    for (const runtime of ["node", "bun"] as const) it(`minimal on ${runtime} refuses to start with a clear error naming the variable`, async function () {
      const name = `${prefix}-badenv-${runtime}`;
      try {
        await docker(["run", "--name", name, "--env", "PORT=eighty", testImageTag(dockerfileTarget({ target: "minimal", runtime }))]);
        assert.fail("the container started with PORT=eighty");
      } catch (error) {
        if (!(error instanceof DockerCommandError)) throw error;
        assert.match(error.stderr, /PORT="eighty": must be a whole number from 1 to 65535/);
        const inspect = await inspectContainer(name);
        assert.strictEqual(inspect.State.ExitCode, 1);
      } finally {
        await removeContainer(name);
      }
    });
  });
});
