import * as assert from "assert";
import { ApiHandler, ApiRequest, ApiResponse, createApi, JSON_CONTENT_TYPE, parseQuery } from "../../images/src/handlers";
import { HEAVY_BODY_BYTES, heavyBody } from "../../images/src/bodies";
import { parseEnv } from "../../images/src/config";
import { RequestMetrics } from "../../images/src/metrics";

/** The routes, called as plain functions: no server, no socket. */
function api(env: Record<string, string> = {}): { handle: (request: ApiRequest) => Promise<ApiResponse>; metrics: RequestMetrics } {
  const config = parseEnv({ VARIANT: "unit", SLOW_DELAY_MS: "50", ...env });
  const metrics = new RequestMetrics("unit", 1);
  const handler: ApiHandler = createApi({ config, metrics, metricsText: () => metrics.registry.metrics() });
  return { handle: async (request) => handler(request), metrics };
}

const get = (url: string, method = "GET"): ApiRequest => ({ method, url, host: "unit", connection: undefined, upgrade: undefined });
const json = (response: ApiResponse) => JSON.parse(response.body.toString("utf8")) as Record<string, unknown>;

describe("web API: the routes as plain handlers", function () {
  const { handle, metrics } = api();

  it("builds a valid JSON heavy body of exactly 500 KiB", function () {
    const body = heavyBody("minimal");
    assert.strictEqual(body.length, HEAVY_BODY_BYTES);
    const parsed = JSON.parse(body.toString("utf8")) as { variant: string; items: unknown[] };
    assert.strictEqual(parsed.variant, "minimal");
    assert.ok(parsed.items.length > 5000);
    assert.strictEqual(heavyBody("x", 4096).length, 4096);
  });

  it("answers the fixed routes as JSON with the variant, Content-Length set, the same buffer every time", async function () {
    for (const path of ["/", "/api/light", "/health"]) {
      const response = await handle(get(path));
      assert.strictEqual(response.status, 200, path);
      assert.strictEqual(response.headers["content-type"], JSON_CONTENT_TYPE);
      assert.strictEqual(response.headers["content-length"], String(response.body.length));
      assert.strictEqual(json(response).variant, "unit", path);
    }
    const heavy = await handle(get("/api/heavy"));
    assert.strictEqual(heavy.body.length, HEAVY_BODY_BYTES);
    assert.strictEqual((await handle(get("/api/heavy"))).body, heavy.body, "no per-request copy of the heavy body");
  });

  it("delays /api/slow by the configured default or by ?ms=", async function () {
    let started = Date.now();
    const byDefault = await handle(get("/api/slow"));
    assert.ok(Date.now() - started >= 45);
    assert.strictEqual(json(byDefault).delayMs, 50);
    started = Date.now();
    const custom = await handle(get("/api/slow?ms=120"));
    assert.ok(Date.now() - started >= 115);
    assert.strictEqual(json(custom).delayMs, 120);
  });

  it("stops /api/slow's timer when the client goes away, and does not count it", async function () {
    const slowOk = /http_requests_total\{route="\/api\/slow",status="200",variant="unit"\} (\d+)/;
    const answered = async () => Number(slowOk.exec(await metrics.registry.metrics())?.[1] ?? 0);
    const before = await answered();
    const controller = new AbortController();
    const pending = handle({ ...get("/api/slow?ms=100"), signal: controller.signal });
    let settled = false;
    void pending.then(() => (settled = true));
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 250)); // well past the 100 ms it asked for
    assert.strictEqual(settled, false);
    assert.strictEqual(await answered(), before);
  });

  it("answers an invalid Host 400 with Connection: close without routing, and says close where the connection ends", async function () {
    const badHost = await handle({ ...get("/metrics"), host: "a b" });
    assert.strictEqual(badHost.status, 400);
    assert.strictEqual(badHost.headers.connection, "close");
    assert.match(String(json(badHost).message), /invalid Host header "a b"/);
    const http10 = await handle({ ...get("/api/slow?ms=1"), host: undefined });
    assert.strictEqual(http10.status, 200);
    assert.strictEqual(http10.headers.connection, "close", "a promised answer says close too");
    const upgrade = await handle({ ...get("/health"), connection: "upgrade", upgrade: "websocket" });
    assert.strictEqual(upgrade.headers.connection, "close");
    assert.strictEqual((await handle(get("/health"))).headers.connection, undefined, "keep-alive by default");
    assert.strictEqual((await handle(get("/api/x/../light"))).status, 200, "the normalised path is routed");
  });

  it("answers 404, 405 and 400 as JSON with a message", async function () {
    const cases: [string, number, RegExp, string?][] = [
      ["/nope", 404, /no route \/nope/],
      ["/api/slow?ms=abc", 400, /ms must be a whole number from 0 to 10000, got "abc"/],
      ["/api/slow?ms=99999", 400, /ms must be a whole number/],
      ["/api/light?%E0%A4%A=1", 400, /malformed query string/],
      ["/api/heavy?size=1", 400, /unknown query parameter "size" \(this route takes no query parameters\)/],
      ["/api/light", 405, /only GET and HEAD/, "DELETE"],
    ];
    for (const [path, status, message, method] of cases) {
      const response = await handle(get(path, method));
      assert.strictEqual(response.status, status, path);
      assert.strictEqual(response.headers["content-type"], JSON_CONTENT_TYPE, path);
      assert.match(json(response).message as string, message, path);
    }
    assert.strictEqual((await handle(get("/api/light", "PUT"))).headers.allow, "GET, HEAD");
  });

  it("counts requests by route and status in /metrics", async function () {
    const lightErrors = /http_requests_total\{route="\/api\/light",status="400",variant="unit"\} (\d+)\n/;
    const count = (response: ApiResponse) => Number(lightErrors.exec(response.body.toString("utf8"))?.[1] ?? 0);
    const before = count(await handle(get("/metrics")));
    await handle(get("/api/light?bad=1"));
    await handle(get("/api/light?bad=2"));
    const response = await handle(get("/metrics"));
    const text = response.body.toString("utf8");
    assert.strictEqual(response.status, 200);
    assert.match(response.headers["content-type"], /^text\/plain; version=0\.0\.4/);
    assert.strictEqual(count(response) - before, 2);
    assert.match(text, /http_request_duration_seconds_count\{route="\/api\/light",variant="unit"\} \d+/);
    assert.match(text, /process_cpu_seconds_total\{variant="unit"\}/);
    assert.match(text, /process_resident_memory_bytes\{variant="unit"\}/);
    assert.match(text, /webapi_info\{runtime="node",runtime_version="[\d.]+",workers="1",variant="unit"\} 1/);
  });

  it("still answers /metrics where the resident size cannot be read (a unikernel has no /proc): heap from V8, no resident sample", async function () {
    const rss = process.memoryUsage.rss;
    process.memoryUsage.rss = () => {
      throw new Error("ENOENT: no such file or directory, uv_resident_set_memory");
    };
    try {
      const response = await handle(get("/metrics"));
      const text = response.body.toString("utf8");
      assert.strictEqual(response.status, 200, text);
      assert.doesNotMatch(text, /^process_resident_memory_bytes\{/m);
      assert.match(text, /^nodejs_heap_size_used_bytes\{variant="unit"\} [1-9]\d*$/m);
      assert.match(text, /^nodejs_heap_size_total_bytes\{variant="unit"\} [1-9]\d*$/m);
    } finally {
      process.memoryUsage.rss = rss;
    }
  });
});

describe("web API: query parsing", function () {
  it("decodes accepted parameters and rejects the rest", function () {
    assert.deepStrictEqual(parseQuery("ms=5", ["ms"]), new Map([["ms", "5"]]));
    assert.deepStrictEqual(parseQuery("", ["ms"]), new Map());
    assert.match(parseQuery("ms=1&ms=2", ["ms"]) as string, /more than once/);
    assert.match(parseQuery("x=%zz", ["x"]) as string, /malformed/);
  });
});
