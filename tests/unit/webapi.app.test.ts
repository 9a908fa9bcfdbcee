import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { createHandler, JSON_CONTENT_TYPE, parseQuery } from "../../images/src/app";
import { HEAVY_BODY_BYTES, heavyBody } from "../../images/src/bodies";
import { parseEnv } from "../../images/src/config";
import { RequestMetrics } from "../../images/src/metrics";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(base: string, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .request(`${base}${path}`, { method, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("error", reject)
      .end();
  });
}

describe("web API: request handling (in process)", function () {
  const shutdown = { draining: false };
  const metrics = new RequestMetrics("unit", 1);
  let server: http.Server;
  let base: string;

  before(async function () {
    const config = parseEnv({ VARIANT: "unit", SLOW_DELAY_MS: "50" });
    server = http.createServer(createHandler({ config, metrics, metricsText: () => metrics.registry.metrics(), shutdown }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(function () {
    server.closeAllConnections();
    server.close();
  });

  it("builds a valid JSON heavy body of exactly 500 KiB", function () {
    const body = heavyBody("minimal");
    assert.strictEqual(body.length, HEAVY_BODY_BYTES);
    const parsed = JSON.parse(body.toString("utf8")) as { variant: string; items: unknown[] };
    assert.strictEqual(parsed.variant, "minimal");
    assert.ok(parsed.items.length > 5000);
    assert.strictEqual(heavyBody("x", 4096).length, 4096);
  });

  it("serves the fixed routes as JSON with the variant", async function () {
    for (const path of ["/", "/api/light", "/health"]) {
      const answer = await get(base, path);
      assert.strictEqual(answer.status, 200, path);
      assert.strictEqual(answer.headers["content-type"], JSON_CONTENT_TYPE);
      assert.strictEqual((JSON.parse(answer.body) as { variant: string }).variant, "unit", path);
    }
    const heavy = await get(base, "/api/heavy");
    assert.strictEqual(Buffer.byteLength(heavy.body), HEAVY_BODY_BYTES);
  });

  it("delays /api/slow by the configured default or by ?ms=", async function () {
    let started = Date.now();
    const byDefault = await get(base, "/api/slow");
    assert.ok(Date.now() - started >= 45);
    assert.strictEqual((JSON.parse(byDefault.body) as { delayMs: number }).delayMs, 50);
    started = Date.now();
    const custom = await get(base, "/api/slow?ms=120");
    assert.ok(Date.now() - started >= 115);
    assert.strictEqual((JSON.parse(custom.body) as { delayMs: number }).delayMs, 120);
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
      const answer = await get(base, path, method);
      assert.strictEqual(answer.status, status, path);
      assert.strictEqual(answer.headers["content-type"], JSON_CONTENT_TYPE, path);
      assert.match((JSON.parse(answer.body) as { message: string }).message, message, path);
    }
  });

  it("counts requests by route and status in /metrics", async function () {
    const lightErrors = /http_requests_total\{route="\/api\/light",status="400",variant="unit"\} (\d+)\n/;
    const count = (text: string) => Number(lightErrors.exec(text)?.[1] ?? 0);
    const before = count((await get(base, "/metrics")).body);
    await get(base, "/api/light?bad=1");
    await get(base, "/api/light?bad=2");
    const answer = await get(base, "/metrics");
    assert.strictEqual(answer.status, 200);
    assert.match(answer.headers["content-type"] ?? "", /^text\/plain; version=0\.0\.4/);
    assert.strictEqual(count(answer.body) - before, 2);
    assert.match(answer.body, /http_request_duration_seconds_count\{route="\/api\/light",variant="unit"\} \d+/);
    assert.match(answer.body, /process_cpu_seconds_total\{variant="unit"\}/);
    assert.match(answer.body, /process_resident_memory_bytes\{variant="unit"\}/);
  });

  it("closes connections after answering once draining", async function () {
    shutdown.draining = true;
    try {
      const answer = await get(base, "/health");
      assert.strictEqual(answer.status, 200);
      assert.strictEqual(answer.headers.connection, "close");
    } finally {
      shutdown.draining = false;
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
