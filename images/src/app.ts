import { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "http";
import { performance } from "perf_hooks";
import { heavyBody, healthBody, lightBody, ROUTES, RoutePath, welcomeBody } from "./bodies";
import { AppConfig, MAX_SLOW_DELAY_MS, parseStrictInt } from "./config";
import type { FixedAnswer } from "./fastPath";
import { RequestMetrics, RequestRecorder } from "./metrics";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** What the handler needs besides the config; the server owns the process-level pieces. */
export interface HandlerContext {
  config: AppConfig;
  metrics: RequestMetrics;
  /** The metrics text to serve: this process's, or the total over every worker. */
  metricsText: () => Promise<string>;
  /** Set when SIGTERM arrived: answers still go out, but connections are closed after them. */
  shutdown: { draining: boolean };
}

type Params = ReadonlyMap<string, string>;

interface Route {
  /** Query parameters the route accepts; anything else is a 400. */
  params: readonly string[];
  record: RequestRecorder;
  serve(req: IncomingMessage, res: ServerResponse, params: Params, started: number): void;
}

/** A fixed answer: body and headers computed once, shared by every request. */
function fixed(body: string | Buffer, contentType = JSON_CONTENT_TYPE): { body: Buffer; headers: OutgoingHttpHeaders } {
  const buffer = typeof body === "string" ? Buffer.from(body) : body;
  return { body: buffer, headers: { "content-type": contentType, "content-length": buffer.length } };
}

function sendJson(res: ServerResponse, status: number, value: unknown, extraHeaders: OutgoingHttpHeaders = {}): void {
  const { body, headers } = fixed(JSON.stringify(value));
  res.writeHead(status, { ...headers, ...extraHeaders });
  res.end(body);
}

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

/**
 * The routes whose answer never changes, rendered once, each with its metrics recorder. node:http's
 * handler and the fast path in front of it share them, so both count into the same figures.
 */
export function fixedAnswers(variant: string, metrics: RequestMetrics): ReadonlyMap<RoutePath, FixedAnswer> {
  const answer = (path: RoutePath, body: string | Buffer): [RoutePath, FixedAnswer] => [
    path,
    { contentType: JSON_CONTENT_TYPE, body: fixed(body).body, record: metrics.forRoute(path) },
  ];
  return new Map([
    answer("/", welcomeBody(variant)),
    answer("/api/light", lightBody(variant)),
    answer("/api/heavy", heavyBody(variant)),
    answer("/health", healthBody(variant)),
  ]);
}

/** Builds the request listener: the fixed routes' bodies come rendered, the others are set up here, once. */
export function createHandler(context: HandlerContext, answers = fixedAnswers(context.config.variant, context.metrics)): RequestListener {
  const { config, metrics, shutdown } = context;

  const staticRoute = (answer: FixedAnswer): Route => {
    const { body: buffer, headers } = fixed(answer.body, answer.contentType);
    const { record } = answer;
    return {
      params: [],
      record,
      serve(_req, res, _params, started) {
        res.writeHead(200, headers);
        res.end(buffer);
        record(200, seconds(started));
      },
    };
  };

  const slowRecord = metrics.forRoute("/api/slow");
  const slow: Route = {
    params: ["ms"],
    record: slowRecord,
    serve(req, res, params, started) {
      const raw = params.get("ms");
      const delay = raw === undefined ? config.slowDelayMs : parseStrictInt(raw);
      if (Number.isNaN(delay) || delay > MAX_SLOW_DELAY_MS) {
        sendJson(res, 400, { error: "bad_request", message: `ms must be a whole number from 0 to ${MAX_SLOW_DELAY_MS}, got "${raw}"` });
        slowRecord(400, seconds(started));
        return;
      }
      // A timer, not a busy wait: other requests keep being served meanwhile.
      const timer = setTimeout(() => {
        sendJson(res, 200, { status: "ok", variant: config.variant, kind: "slow", delayMs: delay });
        slowRecord(200, seconds(started));
      }, delay);
      req.once("close", () => {
        if (!res.writableEnded) clearTimeout(timer);
      });
    },
  };

  const metricsRecord = metrics.forRoute("/metrics");
  const metricsRoute: Route = {
    params: [],
    record: metricsRecord,
    serve(_req, res, _params, started) {
      context.metricsText().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": Buffer.byteLength(text) });
          res.end(text);
          metricsRecord(200, seconds(started));
        },
        (error: unknown) => {
          sendJson(res, 503, { error: "metrics_unavailable", message: error instanceof Error ? error.message : String(error) });
          metricsRecord(503, seconds(started));
        },
      );
    },
  };

  const routes = new Map<string, Route>([
    ...[...answers].map(([path, answer]): [string, Route] => [path, staticRoute(answer)]),
    ["/api/slow", slow],
    ["/metrics", metricsRoute],
  ]);
  const unmatched = metrics.forRoute("unmatched");

  return function handle(req, res) {
    const started = performance.now();
    if (shutdown.draining) res.shouldKeepAlive = false;
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const route = routes.get(path);
    try {
      if (route === undefined) {
        sendJson(res, 404, { error: "not_found", message: `no route ${path}`, routes: ROUTES });
        unmatched(404, seconds(started));
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendJson(res, 405, { error: "method_not_allowed", message: `${req.method} ${path}: only GET and HEAD` }, { allow: "GET, HEAD" });
        route.record(405, seconds(started));
        return;
      }
      let params = EMPTY_PARAMS;
      if (q !== -1) {
        const parsed = parseQuery(url.slice(q + 1), route.params);
        if (typeof parsed === "string") {
          sendJson(res, 400, { error: "bad_request", message: parsed });
          route.record(400, seconds(started));
          return;
        }
        params = parsed;
      }
      route.serve(req, res, params, started);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: "internal_error", message: error instanceof Error ? error.message : String(error) });
      (route?.record ?? unmatched)(500, seconds(started));
    }
  };
}
