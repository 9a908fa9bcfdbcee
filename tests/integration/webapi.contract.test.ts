import * as assert from "assert";
import * as http from "http";
import { ApiServerStarter, containerStarter, httpRequest, localProcessStarter, StartedApiServer, sumSamples } from "./support";
import { healthBody, lightBody, ROUTES } from "../../images/src/bodies";
import { exchangeRaw, RawAnswer, saysClose } from "./support/rawHttp";
import { assertErrorAnswers, assertServesEveryRoute } from "./support/routeChecks";

/**
 * The web API's contract, the same for every server that serves it: routes, answers, metrics
 * totals across processes and the SIGTERM drain. Each starter is one way of running the API; add
 * one (e.g. a container of the Bun image) and every test here runs against it too.
 */
const starters: ApiServerStarter[] = [
  localProcessStarter("node"),
  localProcessStarter("bun"),
  // The real images of both runtimes, at the dev stack's budgets for their targets.
  containerStarter({ target: "standard", cpus: 2, memoryMb: 512 }),
  containerStarter({ target: "minimal", cpus: 0.5, memoryMb: 128 }),
  containerStarter({ target: "standard", runtime: "bun", cpus: 2, memoryMb: 512 }),
  containerStarter({ target: "minimal", runtime: "bun", cpus: 0.5, memoryMb: 128 }),
];

const GRACE_SECONDS = 10;

/**
 * Issue 20: raw request bytes and the answers every server gives them (docs/webapi.md, "Host,
 * request target and connection"). `body` is compared byte for byte; `close` is whether the
 * answer says `Connection: close`; `own` marks the runtime's own 400 (no body, no Date).
 */
interface Expected {
  status: number;
  body: string;
  close: boolean;
  own?: true;
}
const VARIANT = "contract";
const ok = (body: string, close = false): Expected => ({ status: 200, body, close });
const light = lightBody(VARIANT);
const health = healthBody(VARIANT);
const badHost = (host: string): Expected => ({
  status: 400,
  close: true,
  body: JSON.stringify({ error: "bad_request", message: `invalid Host header ${JSON.stringify(host)}: send it once, as a host name, IPv4 or [IPv6] address with an optional :port` }),
});
const notFound = (path: string, close = false): Expected => ({ status: 404, close, body: JSON.stringify({ error: "not_found", message: `no route ${path}`, routes: ROUTES }) });
const get = (target: string, head = "Host: lab\r\n", version = "1.1") => `GET ${target} HTTP/${version}\r\n${head}\r\n`;

const RAW_CASES: [bytes: string, answers: Expected[]][] = [
  [get("/x/metrics", "Host: a b\r\n"), [badHost("a b")]],
  [get("/x/api/heavy", "Host:\r\n"), [badHost("")]],
  [get("/health", "", "1.0"), [ok(health, true)]],
  [get("/api/light", "", "1.0"), [ok(light, true)]],
  [get("/health", ""), [{ status: 400, body: "", close: true, own: true }]],
  [get("/health", "Host: lab\r\nHost: other\r\n"), [badHost("lab, other")]],
  [get("http://lab/api/light"), [ok(light)]],
  [get("/api/x/../light"), [ok(light)]],
  [get("/api\\light"), [ok(light)]],
  [get("/api/%2e%2e/health"), [ok(health)]],
  [get("//x/metrics"), [notFound("//x/metrics")]],
  [get("/health", "Host: lab\r\nConnection: close\r\n"), [ok(health, true)]],
  // The API offers no upgrade: the request is answered, said closed, and nothing after it is read.
  [get("/api/light", "Host: lab\r\nConnection: upgrade\r\nUpgrade: websocket\r\n") + get("/health"), [ok(light, true)]],
  // Pipelined requests whose answers are ready at once are answered in order.
  [get("/api/light") + get("/health"), [ok(light), ok(health)]],
];

/** The significant parts of an answer: status, body, Connection: close, and the headers each kind of answer must carry. */
function assertAnswer(actual: RawAnswer | undefined, expected: Expected, what: string): void {
  assert.ok(actual !== undefined, `${what}: no answer`);
  assert.strictEqual(actual.status, expected.status, `${what}: status`);
  assert.strictEqual(actual.body, expected.body, `${what}: body`);
  assert.strictEqual(saysClose(actual), expected.close, `${what}: Connection: close (headers ${JSON.stringify(actual.headers)})`);
  if (expected.own) return;
  assert.strictEqual(actual.headers["content-type"], "application/json; charset=utf-8", `${what}: content type`);
  assert.strictEqual(Number(actual.headers["content-length"]), Buffer.byteLength(expected.body), `${what}: content-length`);
  assert.ok(actual.headers.date, `${what}: Date`);
}

/** One GET on a given agent (keep-alive when the agent keeps its sockets). */
function getOn(agent: http.Agent, url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, timeout: 10_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy(new Error(`${url}: no answer within 10 s`));
      })
      .on("error", reject);
  });
}

for (const starter of starters) {
  describe(`web API contract: ${starter.description}`, function () {
    this.timeout(120_000);
    let server: StartedApiServer;

    before(async function () {
      await starter.prepare();
      // Two processes, so /metrics has to total them.
      server = await starter.start({ WORKERS: "2", VARIANT: "contract" });
    });

    after(async function () {
      await server?.remove();
    });

    it("serves every route with its status, content type and body size", async function () {
      await assertServesEveryRoute(server.url, "contract");
    });

    it("answers 404, 405 and 400 as JSON with a message", async function () {
      await assertErrorAnswers(server.url);
    });

    it("answers /api/slow after its delay without holding up other requests", async function () {
      const started = Date.now();
      const slow = httpRequest(`${server.url}/api/slow?ms=600`);
      const light = await httpRequest(`${server.url}/api/light`);
      const lightMs = Date.now() - started;
      const answer = await slow;
      const slowMs = Date.now() - started;
      assert.strictEqual(light.status, 200);
      assert.ok(lightMs < 400, `/api/light waited ${lightMs} ms behind /api/slow`);
      assert.strictEqual(answer.status, 200);
      assert.strictEqual((JSON.parse(answer.body.toString("utf8")) as { delayMs: number }).delayMs, 600);
      assert.ok(slowMs >= 590, `/api/slow answered after ${slowMs} ms`);
    });

    it("counts the requests just made in /metrics, totalled over its processes", async function () {
      const metrics = async () => (await httpRequest(`${server.url}/metrics`)).body.toString("utf8");
      const before = await metrics();
      const count = 12;
      // A fresh connection each: they land on both processes.
      for (let i = 0; i < count; i++) await httpRequest(`${server.url}/api/light`);
      await httpRequest(`${server.url}/not-here`);
      await httpRequest(`${server.url}/api/light`, { method: "DELETE" });
      const after = await metrics();
      const delta = (name: string, labels: Record<string, string>) => sumSamples(after, name, labels) - sumSamples(before, name, labels);
      assert.strictEqual(delta("http_requests_total", { route: "/api/light", status: "200" }), count);
      assert.strictEqual(delta("http_requests_total", { route: "unmatched", status: "404" }), 1);
      assert.strictEqual(delta("http_requests_total", { route: "/api/light", status: "405" }), 1);
      assert.strictEqual(delta("http_request_duration_seconds_count", { route: "/api/light" }), count + 1);
      assert.strictEqual(sumSamples(after, "webapi_info", { runtime: starter.runtime, workers: "2", variant: "contract" }), 2, "both processes report");
      assert.ok(sumSamples(after, "process_resident_memory_bytes") > 0, "process memory is reported");
      assert.ok(sumSamples(after, "process_cpu_seconds_total") > 0, "process CPU is reported");
    });

    it("answers the raw request bytes of issue 20 as docs/webapi.md says, byte for byte", async function () {
      for (const [bytes, expected] of RAW_CASES) {
        const what = JSON.stringify(bytes);
        const exchange = await exchangeRaw(server.url, bytes);
        assert.strictEqual(exchange.answers.length, expected.length, `${what}: answers ${JSON.stringify(exchange.answers)}`);
        expected.forEach((answer, i) => assertAnswer(exchange.answers[i], answer, what));
        assert.strictEqual(exchange.closed, expected[expected.length - 1].close, `${what}: connection closed`);
      }
    });

    it("routes no request by a path other than its request line, whatever its Host", async function () {
      for (const target of ["/x/metrics", "/x/api/heavy", "/x/health"]) {
        for (const host of ["a b", "", "a/b", "a?b", "a#b", "a@b", "a,b", "lab/metrics", "lab:80/metrics"]) {
          const exchange = await exchangeRaw(server.url, get(target, `Host: ${host}\r\n`));
          assertAnswer(exchange.answers[0], badHost(host), `${target} with Host ${JSON.stringify(host)}`);
        }
        assertAnswer((await exchangeRaw(server.url, get(target, "Host: lab\r\nHost: lab\r\n"))).answers[0], badHost("lab, lab"), `${target}, Host twice`);
        assertAnswer((await exchangeRaw(server.url, get(target))).answers[0], notFound(target), `${target} with Host lab`);
        assertAnswer((await exchangeRaw(server.url, get(target, "", "1.0"))).answers[0], notFound(target, true), `${target}, HTTP/1.0 without Host`);
        assertAnswer((await exchangeRaw(server.url, get(`http://lab${target}`))).answers[0], notFound(target), `${target} in absolute form`);
      }
    });

    it("answers HEAD with the GET's headers, Date included, and no body", async function () {
      const exchange = await exchangeRaw(server.url, `HEAD /health HTTP/1.1\r\nHost: lab\r\n\r\n`, { head: true });
      const [answer] = exchange.answers;
      assert.strictEqual(answer.status, 200);
      assert.strictEqual(Number(answer.headers["content-length"]), Buffer.byteLength(health));
      assert.strictEqual(answer.headers["content-type"], "application/json; charset=utf-8");
      assert.ok(answer.headers.date, `Date (headers ${JSON.stringify(answer.headers)})`);
      assert.strictEqual(exchange.closed, false);
    });

    it("closes a connection whose request head is silent or incomplete within 10-15 s", async function () {
      this.timeout(60_000);
      const started = Date.now();
      const closedAfter = async (bytes: string) => {
        const exchange = await exchangeRaw(server.url, bytes, { quietMs: 30_000, maxMs: 30_000 });
        assert.ok(exchange.closed, `${JSON.stringify(bytes)}: still open after 30 s`);
        return Date.now() - started;
      };
      const [silent, partial] = await Promise.all([closedAfter(""), closedAfter("GET /health HTTP/1.1\r\nHost: lab\r\n")]);
      for (const ms of [silent, partial]) assert.ok(ms >= 9_000 && ms <= 15_000, `closed after ${ms} ms`);
    });

    it("drains on SIGTERM: answers in-flight and new requests on open connections with Connection: close, accepts no new connection, exits 0", async function () {
      const draining = await starter.start({ VARIANT: "contract", WORKERS: "1" });
      const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const url = draining.url;
        // HTTP/1.1 keeps the connection unless told otherwise (Bun sends no Connection header then).
        assert.notStrictEqual((await getOn(keepAlive, `${url}/health`)).headers.connection, "close");
        const inFlight = getOn(new http.Agent({ keepAlive: true }), `${url}/api/slow?ms=1500`);
        await new Promise((resolve) => setTimeout(resolve, 200)); // let it reach the server
        const started = Date.now();
        const stopped = draining.stop(GRACE_SECONDS);
        // The keep-alive connection keeps sending: every request is answered, and once the signal
        // is in (the platform may take a moment to deliver it) the answer says Connection: close.
        for (;;) {
          const onOpenConnection = await getOn(keepAlive, `${url}/api/light`);
          assert.strictEqual(onOpenConnection.status, 200);
          if (onOpenConnection.headers.connection === "close") break;
          assert.ok(Date.now() - started < 5000, "no answer said Connection: close within 5 s of the stop");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // A new connection gets no answer.
        await assert.rejects(httpRequest(`${url}/health`, { timeoutMs: 2000 }));
        const slow = await inFlight;
        assert.strictEqual(slow.status, 200, "the in-flight request is answered");
        assert.strictEqual(slow.headers.connection, "close");
        assert.strictEqual(await stopped, 0, `exit code\n${await draining.output()}`);
        const stopMs = Date.now() - started;
        assert.ok(stopMs < 5000, `stopping took ${stopMs} ms`);
      } finally {
        keepAlive.destroy();
        await draining.remove();
      }
    });
  });
}
