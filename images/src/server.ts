// The web API on node:http (+ cluster): `node dist/server.js`.
import * as http from "http";
import * as net from "net";
import { CLOSE_HEADER, idleGraceMs } from "./drain";
import { ApiRequest, ApiResponse, createApi } from "./handlers";
import { REQUEST_TIMEOUT_MS } from "./requestHead";
import { runServerProcesses } from "./processes";

/** The request as the routes see it; the abort signal is only made for the route that asks. */
class NodeApiRequest implements ApiRequest {
  private controller?: AbortController;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {}

  get method(): string {
    return this.req.method ?? "GET";
  }

  get url(): string {
    return this.req.url ?? "/";
  }

  get host(): string | undefined {
    // node:http keeps only the first Host in req.headers: read them all, joined as Bun does.
    const raw = this.req.rawHeaders;
    let host: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === 4 && raw[i].toLowerCase() === "host") host = host === undefined ? raw[i + 1] : `${host}, ${raw[i + 1]}`;
    }
    return host;
  }

  get connection(): string | undefined {
    return this.req.headers.connection;
  }

  get upgrade(): string | undefined {
    return this.req.headers.upgrade;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = (this.controller = new AbortController());
      // "close" before the answer is finished: the connection went away.
      this.res.once("close", () => {
        if (!this.res.writableFinished) controller.abort();
      });
    }
    return this.controller.signal;
  }
}

/**
 * A request head (and, were there one, its body) must arrive whole within 10 s of the connection
 * or the previous answer; checked every second (node:http's default is 60 s, checked every 30 s).
 * Bun.serve's counterpart is its idleTimeout (bun-server.ts).
 */
const REQUEST_LIMITS: http.ServerOptions = { headersTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 };

/**
 * Backpressure: node:http parses and answers every request a client pipelines, and queues in
 * memory the answers that cannot go out yet (a client that never reads makes that queue grow
 * without bound). An answer is queued when the one before it on the connection has not gone out
 * (`res.socket` is still null); past MAX_QUEUED_ANSWERS queued in a row, the connection is closed.
 * A client that reads its answers never queues more than its pipelining depth.
 */
const MAX_QUEUED_ANSWERS = 256;
const queuedAnswers = new WeakMap<net.Socket, number>();

/** Counts the answer about to be sent; false when its connection has too many queued and is closed. */
function withinQueueBound(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const socket = req.socket;
  if (res.socket !== null) {
    if (queuedAnswers.has(socket)) queuedAnswers.delete(socket);
    return true;
  }
  const queued = (queuedAnswers.get(socket) ?? 0) + 1;
  if (queued > MAX_QUEUED_ANSWERS) {
    socket.destroy();
    return false;
  }
  queuedAnswers.set(socket, queued);
  return true;
}

runServerProcesses(({ config, metrics, metricsText, listening, cannotListen, drainOnStop }) => {
  const api = createApi({ config, metrics, metricsText });
  let draining = false;

  const send = (res: http.ServerResponse, response: ApiResponse) => {
    res.writeHead(response.status, draining ? { ...response.headers, ...CLOSE_HEADER } : response.headers);
    res.end(response.body);
  };

  const server = http.createServer(REQUEST_LIMITS, (req, res) => {
    if (!withinQueueBound(req, res)) return;
    const response = api(new NodeApiRequest(req, res));
    if (response instanceof Promise) void response.then((ready) => send(res, ready));
    else send(res, response);
  });
  server.on("error", cannotListen);
  server.listen(config.port, config.host, listening);

  drainOnStop({
    async stopAccepting() {
      // net.Server's close stops accepting and calls back once every connection has closed.
      // http.Server's own close() would also close the idle keep-alive connections at once, racing
      // the next request their clients are sending (see drain.ts).
      net.Server.prototype.close.call(server, () => process.exit(0));
    },
    closeConnections() {
      draining = true;
      setTimeout(() => server.closeIdleConnections(), idleGraceMs(config)).unref();
    },
  });
});
