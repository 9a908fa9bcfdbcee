// The web API on Bun's own server (Bun.serve): `bun dist/bun-server.js`.
/// <reference types="bun-types" />
import { CLOSE_HEADER, idleGraceMs, onStopSignal } from "./drain";
import { ApiRequest, ApiResponse, createApi } from "./handlers";
import { exitAfter, runServerProcesses } from "./processes";

/** The request as the routes see it: Bun gives the full URL, the routes want the target. */
class BunApiRequest implements ApiRequest {
  constructor(private readonly request: Request) {}

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    const { url } = this.request;
    // "http://host[:port]/path?query": the target starts at the first "/" after the "//".
    const start = url.indexOf("/", url.indexOf("//") + 2);
    return start === -1 ? "/" : url.slice(start);
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }
}

runServerProcesses(({ config, metrics, metricsText, listening, cannotListen }) => {
  const api = createApi({ config, metrics, metricsText });
  /** Set on the signal: requests wait for it, so their connections are busy when the listener closes. */
  let stopping: Promise<void> | undefined;

  const toResponse = (response: ApiResponse) =>
    stopping === undefined
      ? new Response(response.body, response)
      : new Response(response.body, { status: response.status, headers: { ...response.headers, ...CLOSE_HEADER } });

  const answer = (request: Request): Response | Promise<Response> => {
    const response = api(new BunApiRequest(request));
    return response instanceof Promise ? response.then(toResponse) : toResponse(response);
  };

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // One process per CPU, each with its own listening socket; the kernel spreads connections.
      reusePort: true,
      fetch: (request) => (stopping === undefined ? answer(request) : stopping.then(() => answer(request))),
    });
  } catch (error) {
    cannotListen(error instanceof Error ? error : new Error(String(error)));
  }
  listening();

  onStopSignal(() => {
    // Bun's stop() closes the listener and every idle keep-alive connection at once. Holding the
    // requests that arrive meanwhile keeps their connections busy, so by the time stop() runs the
    // only idle connections are those that sent nothing for the grace period (see drain.ts).
    stopping = new Promise((resolve) => {
      setTimeout(() => {
        void server.stop(false).then(() => process.exit(0));
        resolve();
      }, idleGraceMs(config));
    });
    exitAfter(config.shutdownTimeoutMs, "in-flight requests still open");
  });
});
