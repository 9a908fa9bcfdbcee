/**
 * Steady keep-alive load that counts lost requests, for the drain tests. Run as its own process
 * (so it can be started inside a container's network namespace):
 *
 *   node -r ts-node/register keepAliveLoad.ts <base-url> <clients> [depth]
 *
 * Each client keeps one connection and sends its next request as soon as the previous answer is
 * in (1 in 20 is /api/slow?ms=100, so some are in flight at any moment; the rest /api/light).
 * With a depth above 1 it pipelines: it writes `depth` requests to /api/light at once and the
 * next batch once all of them are answered.
 * After an answer with `Connection: close` it waits for the close and opens a new connection;
 * a refused connection is retried every 20 ms. A request is LOST when it was written and the
 * connection then ended (FIN, RST or error) without its answer: counted strictly, even if the
 * close was already on its way when the request was written. Requests written behind an answer
 * that says `Connection: close` are counted apart (`refusedByClose`): the server said it would not
 * read them, and a client retries them on a new connection (RFC 9112 §9.3.2).
 *
 * Prints `{"ready":true}` once every client has had an answer; on stdin, `mark` starts the
 * "after the signal" counts and `stop` ends the clients and prints the counts as one JSON line.
 */
import * as net from "net";

export interface LoadCounts {
  clients: number;
  sent: number;
  answered: number;
  answeredWithClose: number;
  /** Answers received after `mark` (the stop signal). */
  answeredAfterMark: number;
  /** Connection attempts refused (nothing written: not a lost request). */
  refused: number;
  lost: number;
  /** Pipelined requests behind an answer with `Connection: close` (not lost: explicitly not read). */
  refusedByClose: number;
  /** How the first lost requests ended, e.g. "ECONNRESET /api/light". */
  lostDetails: string[];
  /** Answers other than 200. */
  errors: number;
}

const HEAD_END = "\r\n\r\n";

class Client {
  private socket?: net.Socket;
  private buffer = "";
  /** Requests written and not answered yet, oldest first. */
  private outstanding: string[] = [];
  private stopped = false;
  answeredOnce = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly counts: LoadCounts,
    private readonly marked: () => boolean,
    private readonly onFirstAnswer: () => void,
    private readonly depth: number,
  ) {}

  connect(): void {
    if (this.stopped) return;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffer = "";
    let connected = false;
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      connected = true;
      this.send();
    });
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === "ECONNREFUSED" || error.code === "ENOENT")) return;
      this.endWith(error.code ?? error.message);
    });
    socket.on("close", () => {
      if (!connected) {
        this.counts.refused++;
        if (!this.stopped) setTimeout(() => this.connect(), 20);
        return;
      }
      this.endWith("closed");
      if (!this.stopped) this.connect();
    });
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private send(): void {
    let requests = "";
    for (let i = 0; i < this.depth; i++) {
      // Pipelined, only answers Bun.serve can give at once (see docs/webapi-servers.md, pipelining).
      const path = this.depth === 1 && this.counts.sent % 20 === 0 ? "/api/slow?ms=100" : "/api/light";
      this.outstanding.push(path);
      this.counts.sent++;
      requests += `GET ${path} HTTP/1.1\r\nHost: load\r\n\r\n`;
    }
    this.socket!.write(requests);
  }

  /** The connection ended: the request written on it, if any, got no answer. */
  private endWith(how: string): void {
    if (this.stopped) return;
    for (const path of this.outstanding) {
      this.counts.lost++;
      if (this.counts.lostDetails.length < 10) this.counts.lostDetails.push(`${how} ${path}`);
    }
    this.outstanding = [];
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const headEnd = this.buffer.indexOf(HEAD_END);
      if (headEnd === -1) return;
      const head = this.buffer.slice(0, headEnd);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const total = headEnd + HEAD_END.length + length;
      if (this.buffer.length < total) return;
      this.buffer = this.buffer.slice(total);
      this.outstanding.shift();
      this.counts.answered++;
      if (this.marked()) this.counts.answeredAfterMark++;
      if (!head.startsWith("HTTP/1.1 200 ")) this.counts.errors++;
      if (!this.answeredOnce) {
        this.answeredOnce = true;
        this.onFirstAnswer();
      }
      if (/\r\nconnection:\s*close/i.test(head)) {
        // The server said it closes this connection: send nothing more on it, wait for the close.
        this.counts.answeredWithClose++;
        this.counts.refusedByClose += this.outstanding.length;
        this.outstanding = [];
        return;
      }
      if (!this.stopped && this.outstanding.length === 0) this.send();
    }
  }
}

function main(): void {
  const [base, clientsArg, depthArg] = process.argv.slice(2);
  const url = new URL(base);
  const clients = Number(clientsArg ?? 60);
  const counts: LoadCounts = { clients, sent: 0, answered: 0, answeredWithClose: 0, answeredAfterMark: 0, refused: 0, lost: 0, refusedByClose: 0, lostDetails: [], errors: 0 };
  let marked = false;
  let ready = 0;
  const all: Client[] = [];
  for (let i = 0; i < clients; i++) {
    all.push(
      new Client(url.hostname, Number(url.port), counts, () => marked, () => {
        if (++ready === clients) process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
      }, Number(depthArg ?? 1)),
    );
  }
  all.forEach((client) => client.connect());
  let input = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    input += chunk;
    if (input.includes("mark\n")) marked = true;
    if (input.includes("stop\n")) {
      all.forEach((client) => client.stop());
      process.stdout.write(`${JSON.stringify(counts)}\n`, () => process.exit(0));
    }
  });
  // Bounded whatever happens to the test that drives it.
  setTimeout(() => process.exit(3), 5 * 60_000).unref();
}

if (require.main === module) main();
