// The web API on node:http (+ cluster): `node dist/server.js`.
import * as http from "http";
import * as net from "net";
import { AnswerQueueBound } from "./answerQueue";
import { CLOSE_HEADER, idleGraceMs } from "./drain";
import { ApiRequest, ApiResponse, createApi } from "./handlers";
import { REQUEST_TIMEOUT_MS } from "./requestHead";
import { runServerProcesses } from "./processes";

/** The request as the routes see it; the abort signal is only made for the route that asks. */
class NodeApiRequest implements ApiRequest {
  private controller?: AbortController;
  readonly host: string | undefined;
  readonly connection: string | undefined;
  readonly upgrade: string | undefined;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    // One pass over the raw fields (req.headers would build an object per request, and keeps only
    // the first Host): repeated fields are joined by ", ", as Bun does.
    const raw = req.rawHeaders;
    const join = (before: string | undefined, value: string) => (before === undefined ? value : `${before}, ${value}`);
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name === "host") this.host = join(this.host, raw[i + 1]);
      else if (name === "connection") this.connection = join(this.connection, raw[i + 1]);
      else if (name === "upgrade") this.upgrade = join(this.upgrade, raw[i + 1]);
    }
  }

  get method(): string {
    return this.req.method ?? "GET";
  }

  get url(): string {
    return this.req.url ?? "/";
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

runServerProcesses(({ config, metrics, metricsText, listening, cannotListen, drainOnStop }) => {
  const api = createApi({ config, metrics, metricsText });
  let draining = false;

  const send = (res: http.ServerResponse, response: ApiResponse) => {
    res.writeHead(response.status, draining ? { ...response.headers, ...CLOSE_HEADER } : response.headers);
    res.end(response.body);
  };

  const answerQueue = new AnswerQueueBound();
  const server = http.createServer(REQUEST_LIMITS, (req, res) => {
    if (!answerQueue.admit(req, res)) return;
    const response = api(new NodeApiRequest(req, res));
    if (response instanceof Promise) void response.then((ready) => send(res, ready));
    else send(res, response);
  });
  server.on("connection", answerQueue.onConnection);
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
