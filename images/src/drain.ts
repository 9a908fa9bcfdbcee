/**
 * The drain contract both servers keep on SIGTERM (or SIGINT):
 * - no new connections;
 * - every request on an open connection is answered, with `Connection: close`, and the server
 *   closes that connection after the answer, so its client knows not to send another one on it;
 * - a connection that sent nothing for `idleGraceMs(config)` after the signal is closed then: a
 *   client that sends steadily has had its `Connection: close` answer by then, so the close does
 *   not race its next request (closing every idle connection at once, as node:http's `close()`
 *   and Bun's `stop()` do, races the request a keep-alive client is about to send);
 * - the process exits once every connection is closed, or at SHUTDOWN_TIMEOUT_MS.
 */
import { AppConfig } from "./config";

/** Header set on every answer once draining. */
export const CLOSE_HEADER = { connection: "close" } as const;

/** How long after the signal a silent connection is still given to send a request. */
export function idleGraceMs(config: Pick<AppConfig, "shutdownTimeoutMs">): number {
  return Math.min(500, Math.floor(config.shutdownTimeoutMs / 2));
}

/** Calls `drain` once, on the first SIGTERM or SIGINT. */
export function onStopSignal(drain: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    drain();
  };
  process.on("SIGTERM", once);
  process.on("SIGINT", once);
}
