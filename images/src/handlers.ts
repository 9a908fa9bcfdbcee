import { performance } from "perf_hooks";
import { heavyBody, healthBody, lightBody, ROUTES, welcomeBody } from "./bodies";
import { AppConfig, MAX_SLOW_DELAY_MS, parseStrictInt } from "./config";
import { RequestMetrics, RequestRecorder } from "./metrics";
import { closesConnection, readRequestHead } from "./requestHead";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** What a server hands the routes: nothing here depends on which HTTP server parsed the request. */
export interface ApiRequest {
  method: string;
  /** The request target as the server read it (Bun: its URL); requestHead.ts turns it into the path routed. */
  url: string;
  /** The Host field's value, several joined by ", "; undefined when absent (HTTP/1.0 only). */
  host: string | undefined;
  /** The Connection and Upgrade fields' values, undefined when absent. */
  connection: string | undefined;
  upgrade: string | undefined;
  /** Aborted when the client goes away before the answer; only /api/slow reads it (to stop its timer). */
  readonly signal?: AbortSignal;
}

/**
 * What the routes answer. Fixed routes return the same object every time (body and headers built
 * once), so a server must treat it as read-only and add its own headers elsewhere.
 */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The routes as one function; a promise only for the routes that wait (/api/slow, /metrics). */
export type ApiHandler = (request: ApiRequest) => ApiResponse | Promise<ApiResponse>;

export interface ApiContext {
  config: AppConfig;
  metrics: RequestMetrics;
  /** The metrics text to serve: this process's, or the total over every process of the server. */
  metricsText: () => Promise<string>;
}

type Params = ReadonlyMap<string, string>;

interface Route {
  /** Query parameters the route accepts; anything else is a 400. */
  params: readonly string[];
  record: RequestRecorder;
  serve(request: ApiRequest, params: Params, started: number): ApiResponse | Promise<ApiResponse>;
}

/** An answer with its Content-Type and Content-Length set. */
export function answer(status: number, body: string | Buffer, contentType = JSON_CONTENT_TYPE, extraHeaders: Record<string, string> = {}): ApiResponse {
  const buffer = typeof body === "string" ? Buffer.from(body) : body;
  return { status, body: buffer, headers: { "content-type": contentType, "content-length": String(buffer.length), ...extraHeaders } };
}

const json = (status: number, value: unknown, extraHeaders?: Record<string, string>) => answer(status, JSON.stringify(value), JSON_CONTENT_TYPE, extraHeaders);

const EMPTY_PARAMS: Params = new Map();

/**
 * Parses a raw query string against the parameters a route accepts.
 * Returns the parameters, or the message of the 400 to send.
 */
export function parseQuery(raw: string, accepted: readonly string[]): Params | string {
  const params = new Map<string, string>();
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent((eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, " "));
      value = eq === -1 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, " "));
    } catch {
      return `malformed query string: "${pair}" is not valid percent-encoding`;
    }
    if (!accepted.includes(key)) {
      const allowed = accepted.length === 0 ? "this route takes no query parameters" : `accepted: ${accepted.join(", ")}`;
      return `unknown query parameter "${key}" (${allowed})`;
    }
    if (params.has(key)) return `query parameter "${key}" is given more than once`;
    params.set(key, value);
  }
  return params;
}

const seconds = (started: number) => (performance.now() - started) / 1000;

/** A route whose answer never changes: rendered once, served as the same object every time. */
function fixedRoute(metrics: RequestMetrics, path: string, body: string | Buffer): [string, Route] {
  const response = answer(200, body);
  const record = metrics.forRoute(path);
  return [
    path,
    {
      params: [],
      record,
      serve(_request, _params, started) {
        record(200, seconds(started));
        return response;
      },
    },
  ];
}

/** /api/slow: answers after `ms` (or the configured delay) on a timer, not a busy wait. */
function slowRoute(config: AppConfig, metrics: RequestMetrics): Route {
  const record = metrics.forRoute("/api/slow");
  return {
    params: ["ms"],
    record,
    serve(request, params, started) {
      const raw = params.get("ms");
      const delay = raw === undefined ? config.slowDelayMs : parseStrictInt(raw);
      if (Number.isNaN(delay) || delay > MAX_SLOW_DELAY_MS) {
        record(400, seconds(started));
        return json(400, { error: "bad_request", message: `ms must be a whole number from 0 to ${MAX_SLOW_DELAY_MS}, got "${raw}"` });
      }
      // A timer, not a busy wait: other requests keep being served meanwhile.
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          record(200, seconds(started));
          resolve(json(200, { status: "ok", variant: config.variant, kind: "slow", delayMs: delay }));
        }, delay);
        // The client left: nobody reads the answer, so neither wait nor count it.
        request.signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
      });
    },
  };
}

/** /metrics: the context's metrics text, or a 503 saying why it could not be gathered. */
function metricsRoute(context: ApiContext): Route {
  const { metrics } = context;
  const record = metrics.forRoute("/metrics");
  return {
    params: [],
    record,
    serve(_request, _params, started) {
      return context.metricsText().then(
        (text) => {
          record(200, seconds(started));
          return answer(200, text, metrics.registry.contentType);
        },
        (error: unknown) => {
          record(503, seconds(started));
          return json(503, { error: "metrics_unavailable", message: error instanceof Error ? error.message : String(error) });
        },
      );
    },
  };
}

/**
 * Every route by path. The order of creation is the order of the routes in the metrics text
 * (slow and metrics first, as they always were).
 */
function routeTable(context: ApiContext): Map<string, Route> {
  const { config, metrics } = context;
  const slow = slowRoute(config, metrics);
  const metricsText = metricsRoute(context);
  return new Map<string, Route>([
    fixedRoute(metrics, "/", welcomeBody(config.variant)),
    fixedRoute(metrics, "/api/light", lightBody(config.variant)),
    fixedRoute(metrics, "/api/heavy", heavyBody(config.variant)),
    fixedRoute(metrics, "/health", healthBody(config.variant)),
    ["/api/slow", slow],
    ["/metrics", metricsText],
  ]);
}

/** Finds the request's route and checks its head, method and query before the route serves it. */
function routeRequest(routes: ReadonlyMap<string, Route>, unmatched: RequestRecorder, request: ApiRequest, started: number): ApiResponse | Promise<ApiResponse> {
  const head = readRequestHead(request.url, request.host);
  if (!head.ok) {
    unmatched(400, seconds(started));
    // A client that sends a malformed head is told to start over on a new connection.
    return json(400, { error: "bad_request", message: head.problem }, { connection: "close" });
  }
  const url = head.target;
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const route = routes.get(path);
  try {
    if (route === undefined) {
      unmatched(404, seconds(started));
      return json(404, { error: "not_found", message: `no route ${path}`, routes: ROUTES });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      route.record(405, seconds(started));
      return json(405, { error: "method_not_allowed", message: `${request.method} ${path}: only GET and HEAD` }, { allow: "GET, HEAD" });
    }
    let params = EMPTY_PARAMS;
    if (q !== -1) {
      const parsed = parseQuery(url.slice(q + 1), route.params);
      if (typeof parsed === "string") {
        route.record(400, seconds(started));
        return json(400, { error: "bad_request", message: parsed });
      }
      params = parsed;
    }
    return route.serve(request, params, started);
  } catch (error) {
    (route?.record ?? unmatched)(500, seconds(started));
    return json(500, { error: "internal_error", message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Builds the API: every route's fixed answer is rendered here, once, and each route counts into
 * `metrics` (requests by route and status, time until the answer is ready).
 */
export function createApi(context: ApiContext): ApiHandler {
  const routes = routeTable(context);
  const unmatched = context.metrics.forRoute("unmatched");
  return function handle(request) {
    const response = routeRequest(routes, unmatched, request, performance.now());
    if (!closesConnection(request)) return response;
    return response instanceof Promise ? response.then(withClose) : withClose(response);
  };
}

/** The same answer saying the connection closes after it (a new object: fixed answers are shared). */
export const withClose = (response: ApiResponse): ApiResponse => ({ ...response, headers: { ...response.headers, connection: "close" } });
