import * as http from "http";
import * as net from "net";

/**
 * Backpressure for node:http against clients that pipeline without reading their answers.
 *
 * node:http parses a whole socket read (up to 64 KiB: about 1,600 pipelined `GET /api/light`) in
 * one go and builds a request/response pair for every request in it before anything of ours can
 * stop it; answers that cannot go out yet are queued in memory. Two bounds:
 *
 * - per connection: an answer is queued when the one before it has not gone out (`res.socket` is
 *   still null); past MAX_QUEUED_ANSWERS queued in a row the connection is closed;
 * - per process: the pairs of a closed connection stay in memory until its close completes (the
 *   end of the event-loop turn), and every other connection read in the same turn adds a 64 KiB
 *   read's worth. Past MAX_CLOSING_REQUESTS such requests, every connection stops reading until
 *   those closes have completed, so the kernel's TCP window holds the rest back.
 *
 * A client that reads its answers never queues more than its pipelining depth and is never paused.
 */
const MAX_QUEUED_ANSWERS = 256;
const MAX_CLOSING_REQUESTS = 2048;

export class AnswerQueueBound {
  /** Answers queued in a row per open connection. */
  private readonly queued = new Map<net.Socket, number>();
  /** Requests parsed per connection closed by the bound, until its close completes. */
  private readonly closing = new Map<net.Socket, number>();
  private closingRequests = 0;
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
    const closing = this.closing.get(socket);
    if (closing !== undefined) {
      this.closing.set(socket, closing + 1);
      this.addClosing(1);
      return false;
    }
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
    this.closing.set(socket, queued);
    socket.destroy();
    this.addClosing(queued);
    return false;
  }

  private addClosing(requests: number): void {
    this.closingRequests += requests;
    if (this.paused || this.closingRequests <= MAX_CLOSING_REQUESTS) return;
    this.paused = true;
    for (const socket of this.open) socket.pause();
  }

  private closed(socket: net.Socket): void {
    this.open.delete(socket);
    this.queued.delete(socket);
    this.closingRequests -= this.closing.get(socket) ?? 0;
    this.closing.delete(socket);
    if (!this.paused || this.closingRequests > MAX_CLOSING_REQUESTS) return;
    this.paused = false;
    // A socket node:http paused itself (its answers are not flowing) stays paused on resume.
    for (const open of this.open) open.resume();
  }
}
