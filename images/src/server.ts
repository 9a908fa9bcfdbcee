// The web API on node:http (+ cluster): `node dist/server.js`.
import * as http from "http";
import * as net from "net";
import { CLOSE_HEADER, idleGraceMs } from "./drain";
import { ApiRequest, ApiResponse, createApi } from "./handlers";
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

runServerProcesses(({ config, metrics, metricsText, listening, cannotListen, drainOnStop }) => {
  const api = createApi({ config, metrics, metricsText });
  let draining = false;

  const send = (res: http.ServerResponse, response: ApiResponse) => {
    res.writeHead(response.status, draining ? { ...response.headers, ...CLOSE_HEADER } : response.headers);
    res.end(response.body);
  };

  const server = http.createServer((req, res) => {
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
