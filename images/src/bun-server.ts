// The web API on Bun's own server (Bun.serve): `bun dist/bun-server.js`.
/// <reference types="bun-types" />
import { CLOSE_HEADER, idleGraceMs } from "./drain";
import { ApiRequest, ApiResponse, createApi } from "./handlers";
import { runServerProcesses } from "./processes";
import { REQUEST_TIMEOUT_MS } from "./requestHead";

/** The request as the routes see it: Bun gives the URL it built, the routes want the target. */
class BunApiRequest implements ApiRequest {
  constructor(private readonly request: Request) {}

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    const { url } = this.request;
    // Without a Host Bun can build a URL from, `url` is the request target itself ("/x/metrics").
    if (url.startsWith("/")) return url;
    // "http://host[:port]/path?query": the target starts at the first "/" after the "//".
    const start = url.indexOf("/", url.indexOf("//") + 2);
    return start === -1 ? "/" : url.slice(start);
  }

  get host(): string | undefined {
    return this.request.headers.get("host") ?? undefined;
  }

  get connection(): string | undefined {
    return this.request.headers.get("connection") ?? undefined;
  }

  get upgrade(): string | undefined {
    return this.request.headers.get("upgrade") ?? undefined;
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }
}

runServerProcesses(({ config, metrics, metricsText, listening, cannotListen, drainOnStop }) => {
  const api = createApi({ config, metrics, metricsText });
  /**
   * Set in drain phase 1: requests wait for phase 2, so their connections are busy (not idle) when
   * stop() closes the listener; resolved in phase 2.
   */
  let stopping: Promise<void> | undefined;
  let releaseHeld = () => {};
  /** Drain phase 2: answers carry `Connection: close`. */
  let closing = false;

  // Bun turns a plain headers object into its Headers on every Response: do it once per answer
  // (fixed routes return the same ApiResponse object every time).
  const inits = new WeakMap<ApiResponse, ResponseInit>();
  const initOf = (response: ApiResponse) => {
    let init = inits.get(response);
    if (init === undefined) inits.set(response, (init = { status: response.status, headers: new Headers(response.headers) }));
    return init;
  };
  const toResponse = (response: ApiResponse) =>
    !closing
      ? new Response(response.body, initOf(response))
      : new Response(response.body, { status: response.status, headers: { ...response.headers, ...CLOSE_HEADER } });

  // Bun writes no Date on HEAD answers (it does on every other one): add it, as node:http does.
  const toHeadResponse = (response: ApiResponse) =>
    new Response(response.body, { status: response.status, headers: { ...response.headers, date: new Date().toUTCString(), ...(closing ? CLOSE_HEADER : {}) } });

  const answer = (request: Request): Response | Promise<Response> => {
    const response = api(new BunApiRequest(request));
    const respond = request.method === "HEAD" ? toHeadResponse : toResponse;
    return response instanceof Promise ? response.then(respond) : respond(response);
  };

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // One process per CPU, each with its own listening socket; the kernel spreads connections.
      reusePort: true,
      // Seconds without a byte from the client before Bun closes the connection (node:http's
      // counterpart: server.ts's REQUEST_LIMITS).
      idleTimeout: REQUEST_TIMEOUT_MS / 1000,
      fetch: (request) => (stopping === undefined ? answer(request) : stopping.then(() => answer(request))),
    });
  } catch (error) {
    cannotListen(error instanceof Error ? error : new Error(String(error)));
  }
  listening();

  drainOnStop({
    // Bun's stop() closes the listener and every idle keep-alive connection at once. Holding the
    // requests that arrive for the grace period first leaves idle only the connections that sent
    // nothing for that long (see drain.ts).
    async stopAccepting() {
      stopping = new Promise((resolve) => (releaseHeld = resolve));
      await new Promise((resolve) => setTimeout(resolve, idleGraceMs(config)));
      void server.stop(false).then(() => process.exit(0));
    },
    closeConnections() {
      closing = true;
      releaseHeld();
    },
  });
});
