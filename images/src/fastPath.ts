import * as http from "http";
import type { Socket } from "net";
import { performance } from "perf_hooks";
import type { RequestRecorder } from "./metrics";

/** A route whose answer never changes: the fast path sends these bytes (plus Date) itself. */
export interface FixedAnswer {
  contentType: string;
  body: Buffer;
  record: RequestRecorder;
}

/** What the fast path needs to know of a request head it answers itself. */
export interface SimpleRequest {
  path: string;
  /** The client asked for `Connection: close`. */
  close: boolean;
}

/** RFC 9110 token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB (this also catches a bare CR or LF inside a line). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** A plain path: no query, no percent-encoding, nothing node:http would have to interpret. */
const PLAIN_PATH = /^\/[A-Za-z0-9/._~-]*$/;
/** Spaces and tabs around a list element (String.trim would also strip other Unicode spaces). */
const OPTIONAL_WHITESPACE = /^[ \t]+|[ \t]+$/g;
const REQUEST_LINE_TAIL = " HTTP/1.1";
const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Reads a request head (up to, not including, the blank line) if it is the plain case the fast path
 * answers: `GET <plain path> HTTP/1.1`, exactly one Host header, no body, no upgrade or
 * expectation, every line well formed. Anything else, valid or not, gives undefined: node:http
 * answers it, with all its checks and error replies.
 */
export function parseSimpleRequest(head: string): SimpleRequest | undefined {
  if (!head.startsWith("GET /")) return undefined;
  const lineEnd = head.indexOf("\r\n");
  if (lineEnd === -1 || !head.endsWith(REQUEST_LINE_TAIL, lineEnd)) return undefined;
  const path = head.slice(4, lineEnd - REQUEST_LINE_TAIL.length);
  if (!PLAIN_PATH.test(path)) return undefined;
  let hosts = 0;
  let close = false;
  for (let start = lineEnd + 2; start < head.length + 2; ) {
    const found = head.indexOf("\r\n", start);
    const end = found === -1 ? head.length : found;
    const colon = head.indexOf(":", start);
    if (colon <= start || colon >= end) return undefined;
    const name = head.slice(start, colon);
    const value = head.slice(colon + 1, end);
    if (!TOKEN.test(name) || CONTROL.test(value)) return undefined;
    switch (name.toLowerCase()) {
      case "host":
        hosts++;
        break;
      case "connection":
        for (const option of value.split(",")) {
          const token = option.replace(OPTIONAL_WHITESPACE, "").toLowerCase();
          if (token === "close") close = true;
          else if (token !== "keep-alive") return undefined;
        }
        break;
      case "content-length":
      case "transfer-encoding":
      case "expect":
      case "upgrade":
      // llhttp reads it like Connection.
      case "proxy-connection":
        return undefined;
    }
    start = end + 2;
  }
  return hosts === 1 ? { path, close } : undefined;
}

/** `Date` header value, recomputed at most once a second (node:http caches it the same way). */
class HttpDate {
  private value = "";
  private validUntil = 0;

  now(): string {
    const ms = Date.now();
    if (ms >= this.validUntil) {
      this.value = new Date(ms).toUTCString();
      this.validUntil = ms - (ms % 1000) + 1000;
    }
    return this.value;
  }
}

/**
 * One route's responses, with the headers node:http would send. The keep-alive one (the hot path)
 * is head and body in one buffer, so it leaves in one write; rebuilt when the Date changes.
 */
class PreparedResponse {
  private date = "";
  private keepAlive = Buffer.alloc(0);

  constructor(
    readonly answer: FixedAnswer,
    private readonly keepAliveSeconds: number,
  ) {}

  keepAliveResponse(date: string): Buffer {
    if (date !== this.date) {
      this.keepAlive = Buffer.concat([this.head(date, `Connection: keep-alive\r\nKeep-Alive: timeout=${this.keepAliveSeconds}`), this.answer.body]);
      this.date = date;
    }
    return this.keepAlive;
  }

  closeHead(date: string): Buffer {
    return this.head(date, "Connection: close");
  }

  private head(date: string, connection: string): Buffer {
    const { contentType, body } = this.answer;
    return Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: ${contentType}\r\ncontent-length: ${body.length}\r\nDate: ${date}\r\n${connection}\r\n\r\n`, "latin1");
  }
}

export interface FastPathOptions {
  /** The fixed routes, by path; every other route is node:http's. */
  answers: ReadonlyMap<string, FixedAnswer>;
  /** Set on SIGTERM: answers still go out, with `Connection: close`. */
  shutdown: { readonly draining: boolean };
}

/**
 * Answers the fixed routes straight from the socket, in front of node:http.
 *
 * Why: on a CPU-bound `/api/light`, node:http's per-request machinery (request and response
 * objects, streams, header validation, timers) costs about twice what the kernel does; a plain
 * GET of a fixed route needs none of it. Each connection starts here. The first request that is
 * not a complete, plain GET of a fixed route in the bytes read so far (a query, another method,
 * /metrics, /api/slow, a head split across reads, anything malformed) hands the connection, with
 * the unread bytes, to node:http for good, so every unusual or invalid request gets node:http's
 * handling and error replies.
 */
export class FastPath {
  private readonly sockets = new Set<Socket>();
  private readonly date = new HttpDate();
  private readonly responses: ReadonlyMap<string, PreparedResponse>;
  private readonly maxHeaderSize: number;
  private readonly idleTimeoutMs: number;

  /**
   * Takes over `server`'s connections; node:http still listens, tracks the connections handed to
   * it and applies its timeouts. Reads the server's keep-alive settings now: set them before.
   */
  constructor(
    private readonly server: http.Server,
    private readonly options: FastPathOptions,
  ) {
    if (server.keepAliveTimeout <= 0 || server.maxRequestsPerSocket) {
      throw new Error("the fast path needs keepAliveTimeout > 0 and no maxRequestsPerSocket (it does not count requests per connection)");
    }
    const keepAliveSeconds = Math.floor(server.keepAliveTimeout / 1000);
    this.responses = new Map([...options.answers].map(([path, answer]) => [path, new PreparedResponse(answer, keepAliveSeconds)]));
    // The server is created without a maxHeaderSize option, so node:http applies this one too.
    this.maxHeaderSize = http.maxHeaderSize;
    this.idleTimeoutMs = server.keepAliveTimeout;
    const nodeListeners = server.listeners("connection");
    if (nodeListeners.length !== 1) {
      throw new Error(`expected node:http's one 'connection' listener on the server, found ${nodeListeners.length}`);
    }
    const nodeConnectionListener = nodeListeners[0] as (socket: Socket) => void;
    server.removeListener("connection", nodeConnectionListener);
    server.on("connection", (socket: Socket) => this.adopt(socket, nodeConnectionListener));
  }

  /**
   * Closes the connections the fast path holds that are idle, as node:http's closeIdleConnections
   * does for its own. One still sending answers is left: its next answer says Connection: close.
   */
  closeIdleConnections(): void {
    for (const socket of this.sockets) {
      if (!socket.isPaused() && socket.writableLength === 0) socket.destroy();
    }
  }

  private adopt(socket: Socket, nodeConnectionListener: (socket: Socket) => void): void {
    this.sockets.add(socket);
    const { shutdown } = this.options;
    let answered = 0;

    const release = () => {
      this.sockets.delete(socket);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      socket.removeListener("timeout", onTimeout);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
      socket.removeListener("drain", onDrain);
      socket.setTimeout(0);
    };
    const handOff = (unread: Buffer) => {
      release();
      if (unread.length > 0) socket.unshift(unread);
      nodeConnectionListener.call(this.server, socket);
    };
    const onData = (chunk: Buffer) => {
      if (socket.writableEnded) return;
      const date = this.date.now();
      // Answers to requests pipelined in one read leave in one write.
      let corked = false;
      try {
        for (let offset = 0; offset < chunk.length; ) {
          const headEnd = chunk.indexOf(HEAD_END, offset);
          if (headEnd === -1 || headEnd - offset > this.maxHeaderSize) return handOff(chunk.subarray(offset));
          const started = performance.now();
          const request = parseSimpleRequest(chunk.toString("latin1", offset, headEnd));
          const response = request && this.responses.get(request.path);
          if (request === undefined || response === undefined) return handOff(chunk.subarray(offset));
          answered++;
          if (request.close || shutdown.draining) {
            socket.cork();
            socket.write(response.closeHead(date));
            // As node:http does after a closing answer: no half-open socket left reading.
            socket.end(response.answer.body, () => socket.destroy());
            response.answer.record(200, (performance.now() - started) / 1000);
            return;
          }
          offset = headEnd + HEAD_END.length;
          if (!corked && offset < chunk.length) {
            socket.cork();
            corked = true;
          }
          socket.write(response.keepAliveResponse(date));
          response.answer.record(200, (performance.now() - started) / 1000);
          // A client that sends faster than it reads must not grow our write buffer without bound:
          // keep the rest of its requests unread until the socket drains. Like node:http, no idle
          // timeout runs while an answer is still being sent.
          if (socket.writableNeedDrain) {
            socket.pause();
            socket.setTimeout(0);
            if (offset < chunk.length) socket.unshift(chunk.subarray(offset));
            socket.once("drain", onDrain);
            return;
          }
        }
      } finally {
        if (corked) socket.uncork();
      }
    };
    const onDrain = () => {
      socket.setTimeout(this.idleTimeoutMs);
      socket.resume();
    };
    // node:http allows half-open sockets; with nothing in flight, the client's FIN ends ours too.
    const onEnd = () => socket.end();
    // Idle after answers: closed, as node:http closes a keep-alive connection. Silent from the
    // start: node:http takes it and applies its headersTimeout (and its 408).
    const onTimeout = () => (answered > 0 ? socket.destroy() : handOff(Buffer.alloc(0)));
    // Resets and timeouts on idle keep-alive connections are routine; the socket is closed for us.
    const onError = () => undefined;
    const onClose = () => this.sockets.delete(socket);

    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("timeout", onTimeout);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.setTimeout(this.idleTimeoutMs);
  }
}
