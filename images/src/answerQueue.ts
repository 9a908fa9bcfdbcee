import * as http from "http";
import * as net from "net";

/**
 * Backpressure for node:http against clients that pipeline without reading their answers.
 *
 * node:http parses a whole socket read (up to 64 KiB: about 1,680 pipelined `GET /api/light`) in
 * one go and builds a request/response pair for every request in it before anything of ours can
 * stop it; answers that cannot go out yet are queued in memory. Two bounds:
 *
 * - per connection: an answer is queued when the one before it has not gone out (`res.socket` is
 *   still null); past MAX_QUEUED_ANSWERS queued in a row the connection is closed;
 * - per process: the pairs of a closed connection stay in memory until its close completes (the
 *   end of the event-loop turn), and every other connection read in the same turn would add a
 *   64 KiB read's worth. So while a connection closed by the bound is still closing, no connection
 *   reads (the kernel's TCP window holds the clients back); reading resumes once it is gone.
 *
 * A client that reads its answers never queues more than its pipelining depth, so it is never
 * closed; it waits one event-loop turn when another client trips the bound.
 */
const MAX_QUEUED_ANSWERS = 256;

export class AnswerQueueBound {
  /** Answers queued in a row per open connection. */
  private readonly queued = new Map<net.Socket, number>();
  /** Connections closed by the bound whose close has not completed. */
  private readonly closing = new Set<net.Socket>();
  private readonly open = new Set<net.Socket>();
  private paused = false;

  /** Tracks a new connection of the server (its `connection` listener). */
  readonly onConnection = (socket: net.Socket): void => {
    this.open.add(socket);
    if (this.paused) socket.pause();
    socket.once("close", () => this.closed(socket));
  };

  /** Counts the answer about to be sent; false when its connection is over the bound (it is then closed). */
  admit(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const socket = req.socket;
    if (this.closing.has(socket)) return false;
    if (res.socket !== null) {
      this.queued.delete(socket);
      return true;
    }
    const queued = (this.queued.get(socket) ?? 0) + 1;
    if (queued <= MAX_QUEUED_ANSWERS) {
      this.queued.set(socket, queued);
      return true;
    }
    this.queued.delete(socket);
    this.closing.add(socket);
    socket.destroy();
    this.pauseReading();
    return false;
  }

  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    for (const socket of this.open) socket.pause();
  }

  private closed(socket: net.Socket): void {
    this.open.delete(socket);
    this.queued.delete(socket);
    this.closing.delete(socket);
    if (!this.paused || this.closing.size > 0) return;
    this.paused = false;
    // A socket node:http paused itself (its answers are not flowing) stays paused on resume.
    for (const open of this.open) open.resume();
  }
}
