/**
 * The drain contract both servers keep on SIGTERM (or SIGINT), in two phases:
 * 1. stop accepting: the listener closes while open connections keep being served as usual;
 *    with several processes, every process has closed its listener before phase 2 starts;
 * 2. close: every request on an open connection is answered with `Connection: close` and its
 *    connection closed after the answer, so its client sends nothing more on it (and finds no
 *    listener when it reconnects); a connection that sent nothing for `idleGraceMs` is closed then.
 * The process exits once every connection is closed, or at SHUTDOWN_TIMEOUT_MS.
 *
 * Why not node:http's `close()` or Bun's `stop()` alone: both close every idle keep-alive
 * connection at once, racing the request its client is sending, and a client told to close
 * before every listener is shut may reconnect into a backlog that is then reset.
 */
import { AppConfig } from "./config";

/** Header set on every answer in phase 2. */
export const CLOSE_HEADER = { connection: "close" } as const;

/** What a server does in each phase. */
export interface Drainable {
  /** Phase 1; resolves once this process accepts no more connections. */
  stopAccepting(): Promise<void>;
  /** Phase 2. */
  closeConnections(): void;
}

/**
 * How long a silent connection is still given to send a request, from the signal: a client that
 * sends steadily has had its `Connection: close` answer long before.
 */
export function idleGraceMs(config: Pick<AppConfig, "shutdownTimeoutMs">): number {
  return Math.min(500, Math.floor(config.shutdownTimeoutMs / 2));
}
