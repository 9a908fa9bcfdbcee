import * as assert from "assert";
import * as http from "http";
import * as net from "net";
import { createHandler, fixedAnswers } from "../../images/src/app";
import { parseEnv } from "../../images/src/config";
import { FastPath, parseSimpleRequest } from "../../images/src/fastPath";
import { RequestMetrics } from "../../images/src/metrics";
import { sumSamples } from "../integration/support/prometheusText";

/** A web API server in this process, with or without the fast path in front of node:http. */
async function startApi(options: { fastPath: boolean; keepAliveTimeoutMs?: number; serverOptions?: http.ServerOptions }) {
  const shutdown = { draining: false };
  const metrics = new RequestMetrics("unit", 1);
  const config = parseEnv({ VARIANT: "unit", SLOW_DELAY_MS: "20" });
  const answers = fixedAnswers(config.variant, metrics);
  const server = http.createServer(options.serverOptions ?? {}, createHandler({ config, metrics, metricsText: () => metrics.registry.metrics(), shutdown }, answers));
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  const fastPath = options.fastPath ? new FastPath(server, { answers, shutdown }) : undefined;
  const serverSockets: net.Socket[] = [];
  server.on("connection", (socket: net.Socket) => serverSockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = () => {
    server.closeAllConnections();
    for (const socket of serverSockets) socket.destroy();
    server.close();
  };
  return { server, port, shutdown, fastPath, serverSockets, close };
}

type Api = Awaited<ReturnType<typeof startApi>>;

/** Sends raw bytes (each string a separate write, `pauseMs` apart), half-closes, returns all it got. */
function exchange(port: number, writes: readonly string[], pauseMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close within 5 s; got ${Buffer.concat(chunks).length} bytes`)));
    socket.once("connect", async () => {
      for (const [i, bytes] of writes.entries()) {
        if (i > 0 && pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        socket.write(bytes, "latin1");
      }
      socket.end();
    });
  });
}

const withoutDates = (raw: string) => raw.replace(/\r\nDate: [^\r]*\r\n/g, "\r\nDate: -\r\n");
const countResponses = (raw: string) => (raw.match(/HTTP\/1\.1 \d{3} /g) ?? []).length;
const get = (path: string, headers = "Host: lab\r\n") => `GET ${path} HTTP/1.1\r\n${headers}\r\n`;

describe("web API: fast path for the fixed routes", function () {
  describe("parseSimpleRequest", function () {
    it("accepts a plain GET of a path with one Host header, and notes Connection: close", function () {
      assert.deepStrictEqual(parseSimpleRequest("GET /api/light HTTP/1.1\r\nHost: lab"), { path: "/api/light", close: false });
      assert.deepStrictEqual(parseSimpleRequest("GET / HTTP/1.1\r\nUser-Agent: wrk\r\nhost:lab:8000\r\nAccept: */*"), { path: "/", close: false });
      assert.deepStrictEqual(parseSimpleRequest("GET /health HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive, Close"), { path: "/health", close: true });
      assert.deepStrictEqual(parseSimpleRequest("GET /health HTTP/1.1\r\nHost: lab\r\nConnection:keep-alive"), { path: "/health", close: false });
    });

    const leftToNode: [string, string][] = [
      ["HEAD", "HEAD /api/light HTTP/1.1\r\nHost: lab"],
      ["POST", "POST /api/light HTTP/1.1\r\nHost: lab"],
      ["lower-case method", "get /api/light HTTP/1.1\r\nHost: lab"],
      ["a query", "GET /api/slow?ms=5 HTTP/1.1\r\nHost: lab"],
      ["percent-encoding", "GET /api/%6Cight HTTP/1.1\r\nHost: lab"],
      ["absolute form", "GET http://lab/api/light HTTP/1.1\r\nHost: lab"],
      ["HTTP/1.0", "GET /api/light HTTP/1.0\r\nHost: lab"],
      ["no header at all", "GET /api/light HTTP/1.1"],
      ["no Host", "GET /api/light HTTP/1.1\r\nAccept: */*"],
      ["two Host headers", "GET /api/light HTTP/1.1\r\nHost: a\r\nHost: b"],
      ["a body length", "GET /api/light HTTP/1.1\r\nHost: lab\r\nContent-Length: 0"],
      ["a chunked body", "GET /api/light HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked"],
      ["an expectation", "GET /api/light HTTP/1.1\r\nHost: lab\r\nExpect: 100-continue"],
      ["an upgrade", "GET /api/light HTTP/1.1\r\nHost: lab\r\nConnection: Upgrade\r\nUpgrade: websocket"],
      ["Proxy-Connection (llhttp reads it as Connection)", "GET /api/light HTTP/1.1\r\nHost: lab\r\nProxy-Connection: close"],
      ["a Connection option padded with a non-breaking space", "GET /api/light HTTP/1.1\r\nHost: lab\r\nConnection: close\u00a0"],
      ["a space in a header name", "GET /api/light HTTP/1.1\r\nHost : lab"],
      ["a line without colon", "GET /api/light HTTP/1.1\r\nHost: lab\r\nnonsense"],
      ["a folded header", "GET /api/light HTTP/1.1\r\nHost: lab\r\nX-A: 1\r\n 2"],
      ["a bare LF", "GET /api/light HTTP/1.1\r\nHost: lab\nX-Smuggled: 1"],
      ["a NUL in a value", "GET /api/light HTTP/1.1\r\nHost: l\u0000ab"],
      ["an empty header line", "GET /api/light HTTP/1.1\r\n\r\nHost: lab"],
      ["a space in the path", "GET /api/ light HTTP/1.1\r\nHost: lab"],
    ];
    for (const [what, head] of leftToNode) {
      it(`leaves ${what} to node:http`, function () {
        assert.strictEqual(parseSimpleRequest(head), undefined);
      });
    }
  });

  describe("answers exactly as node:http does", function () {
    let plain: Api;
    let fast: Api;

    before(async function () {
      plain = await startApi({ fastPath: false });
      fast = await startApi({ fastPath: true });
    });

    after(function () {
      plain.close();
      fast.close();
    });

    const big = "x".repeat(20_000);
    const scenarios: [string, string[], number?][] = [
      ["one light request", [get("/api/light")]],
      ["pipelined fixed routes", [get("/api/light") + get("/health") + get("/") + get("/api/heavy") + get("/api/light")]],
      ["a query in the middle of a pipeline", [get("/api/light") + get("/api/light?x=1") + get("/health")]],
      ["a 404 then a fixed route", [get("/nope") + get("/api/light")]],
      ["HEAD, then a fixed route", [`HEAD /api/light HTTP/1.1\r\nHost: lab\r\n\r\n${get("/api/light")}`]],
      ["a POST with a body, then a fixed route", [`POST /api/light HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nhello${get("/health")}`]],
      ["a chunked GET body, then a fixed route", [`GET /api/light HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${get("/")}`]],
      ["Connection: close, then bytes that must be ignored", [get("/api/light", "Host: lab\r\nConnection: close\r\n") + get("/health")]],
      ["HTTP/1.0", ["GET /api/light HTTP/1.0\r\n\r\n"]],
      ["Proxy-Connection: close", [get("/api/light", "Host: lab\r\nProxy-Connection: close\r\n") + get("/health")]],
      ["no Host header", ["GET /api/light HTTP/1.1\r\nAccept: */*\r\n\r\n"]],
      ["a head over 16 KiB", [get("/api/light", `Host: lab\r\nX-Big: ${big}\r\n`)]],
      ["a head split across two writes", [get("/api/light") + "GET /health HTTP/1.1\r\nHo", "st: lab\r\n\r\n" + get("/")], 30],
      ["a request split right after the request line", ["GET /api/light HTTP/1.1\r\n", "Host: lab\r\n\r\n"], 30],
    ];
    for (const [what, writes, pauseMs] of scenarios) {
      it(what, async function () {
        const expected = await exchange(plain.port, writes, pauseMs);
        const actual = await exchange(fast.port, writes, pauseMs);
        assert.ok(countResponses(expected) > 0, `node:http answered nothing for ${what}`);
        assert.strictEqual(withoutDates(actual), withoutDates(expected));
      });
    }
  });

  describe("malformed requests after answered ones", function () {
    let api: Api;

    before(async function () {
      api = await startApi({ fastPath: true });
    });

    after(function () {
      api.close();
    });

    // node:http alone, parsing both requests in one go, drops the connection without a reply to the
    // bad one (its answer to the first is still in flight); here the first is already answered, so
    // node:http replies 400 and closes: one answer more, never one that reads the smuggled bytes.
    const cases: [string, string][] = [
      ["an invalid header name", "GET /health HTTP/1.1\r\nHost lab\r\n\r\n"],
      ["a bare LF hiding a Content-Length", `GET /health HTTP/1.1\r\nHost: lab\nContent-Length: 3\r\n\r\nabc${get("/")}`],
    ];
    for (const [what, bad] of cases) {
      it(`answers the good request, then 400 for ${what}, and closes`, async function () {
        const raw = await exchange(api.port, [get("/api/light") + bad]);
        const answers = raw.match(/HTTP\/1\.1 \d{3} [^\r]*/g);
        assert.deepStrictEqual(answers, ["HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"]);
        assert.ok(raw.endsWith("Connection: close\r\n\r\n"), raw);
      });
    }
  });

  describe("connections it holds", function () {
    let api: Api;

    afterEach(function () {
      api.close();
    });

    it("counts its answers in /metrics with the ones node:http serves", async function () {
      api = await startApi({ fastPath: true });
      const raw = await exchange(api.port, [get("/api/light").repeat(7) + get("/api/light?x=1") + get("/metrics")]);
      assert.strictEqual(countResponses(raw), 9);
      const metricsText = raw.slice(raw.lastIndexOf("\r\n\r\n") + 4);
      assert.strictEqual(sumSamples(metricsText, "http_requests_total", { route: "/api/light", status: "200" }), 7);
      assert.strictEqual(sumSamples(metricsText, "http_requests_total", { route: "/api/light", status: "400" }), 1);
      assert.strictEqual(sumSamples(metricsText, "http_request_duration_seconds_count", { route: "/api/light" }), 8);
    });

    it("answers with Connection: close while draining, and closes idle connections on request", async function () {
      api = await startApi({ fastPath: true });
      const idle = net.connect(api.port, "127.0.0.1");
      const idleClosed = new Promise<string>((resolve) => {
        let received = "";
        idle.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
        idle.on("end", () => resolve(received));
      });
      idle.write(get("/api/light"));
      await new Promise((r) => setTimeout(r, 50));
      api.shutdown.draining = true;
      const drained = await exchange(api.port, [get("/health") + get("/api/light")]);
      assert.strictEqual(countResponses(drained), 1, "nothing after the Connection: close answer");
      assert.match(drained, /\r\nConnection: close\r\n/);
      api.fastPath!.closeIdleConnections();
      const received = await idleClosed;
      assert.strictEqual(countResponses(received), 1);
      assert.match(received, /\r\nConnection: keep-alive\r\n/);
      idle.destroy();
    });

    it("closes the socket after a Connection: close answer, even if the client keeps its side open", async function () {
      api = await startApi({ fastPath: true });
      const socket = net.connect(api.port, "127.0.0.1");
      socket.resume();
      socket.write(get("/api/light", "Host: lab\r\nConnection: close\r\n"));
      await new Promise((resolve) => socket.once("end", resolve));
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(api.serverSockets[0].destroyed, true, "a half-open socket was left reading");
      socket.destroy();
    });

    it("hands a connection that never sends anything to node:http, which times it out with a 408", async function () {
      api = await startApi({ fastPath: true, keepAliveTimeoutMs: 100, serverOptions: { connectionsCheckingInterval: 50, headersTimeout: 300, requestTimeout: 300 } });
      const socket = net.connect(api.port, "127.0.0.1");
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      const started = Date.now();
      await new Promise((resolve) => socket.on("close", resolve));
      assert.match(received, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(Date.now() - started < 2000);
    });

    it("leaves a connection still sending answers open when closing idle ones, and closes it after its next answer", async function () {
      api = await startApi({ fastPath: true });
      const keepAliveAnswer = Buffer.byteLength(await exchange(api.port, [get("/api/heavy")]), "latin1");
      const closingAnswer = keepAliveAnswer - "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n".length + "Connection: close\r\n".length;
      const socket = net.connect(api.port, "127.0.0.1");
      socket.pause();
      socket.write(get("/api/heavy").repeat(50));
      await new Promise((r) => setTimeout(r, 200));
      api.shutdown.draining = true;
      api.fastPath!.closeIdleConnections();
      assert.strictEqual(api.serverSockets[1].destroyed, false, "a connection with answers in flight is not idle");
      let bytes = 0;
      socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
      socket.resume();
      await new Promise((resolve) => socket.on("close", resolve));
      const keptAlive = (bytes - closingAnswer) / keepAliveAnswer;
      assert.ok(Number.isInteger(keptAlive) && keptAlive >= 1 && keptAlive < 50, `${bytes} bytes: not whole answers ending with a closing one`);
    });

    it("closes a keep-alive connection left idle longer than the server's keepAliveTimeout", async function () {
      api = await startApi({ fastPath: true, keepAliveTimeoutMs: 150 });
      const socket = net.connect(api.port, "127.0.0.1");
      socket.resume();
      socket.write(get("/api/light"));
      const started = Date.now();
      await new Promise((resolve) => socket.on("close", resolve));
      const idleMs = Date.now() - started;
      assert.ok(idleMs >= 140 && idleMs < 2000, `closed after ${idleMs} ms`);
    });

    it("stops reading from a client that pipelines faster than it reads, and resumes when it reads", async function () {
      api = await startApi({ fastPath: true });
      const oneResponse = Buffer.byteLength(await exchange(api.port, [get("/api/heavy")]), "latin1");
      const requests = 100;
      const socket = net.connect(api.port, "127.0.0.1");
      socket.pause();
      socket.write(get("/api/heavy").repeat(requests));
      socket.end();
      await new Promise((r) => setTimeout(r, 300));
      const serverSocket = api.serverSockets[1];
      assert.ok(serverSocket.isPaused(), "the server should stop reading while its write buffer is full");
      assert.ok(serverSocket.writableLength < 4 * 2 ** 20, `server buffered ${serverSocket.writableLength} bytes`);
      let bytes = 0;
      socket.on("data", (chunk: Buffer) => (bytes += chunk.length));
      socket.resume();
      await new Promise((resolve) => socket.on("close", resolve));
      assert.strictEqual(bytes, requests * oneResponse);
    });
  });
});
