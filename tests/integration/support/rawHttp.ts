import * as net from "net";

/** One answer read off the wire, with only what the contract compares. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case, repeated fields joined by ", ". */
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  answers: RawAnswer[];
  /** The server closed the connection (FIN or reset) within the wait. */
  closed: boolean;
}

/**
 * Sends `bytes` as one write on a new connection and reads what comes back: answers (bodies by
 * Content-Length or chunked; none for HEAD when `head` is set) until the server closes, or until
 * `quietMs` pass without a byte once something arrived (`maxMs` in all).
 */
export function exchangeRaw(url: string, bytes: string, options: { head?: boolean; quietMs?: number; maxMs?: number } = {}): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const quietMs = options.quietMs ?? 400;
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(quiet);
      clearTimeout(overall);
      socket.destroy();
      resolve({ answers: parseAnswers(Buffer.concat(chunks), options.head ?? false), closed });
    };
    const overall = setTimeout(() => finish(false), options.maxMs ?? 3000);
    socket.on("connect", () => socket.write(Buffer.from(bytes, "latin1")));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), quietMs);
    });
    socket.on("error", () => {});
    socket.on("close", () => finish(true));
  });
}

function parseAnswers(data: Buffer, head: boolean): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf("\r\n\r\n", at);
    if (headEnd === -1) break;
    const [statusLine, ...lines] = data.subarray(at, headEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    at = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    if (!head && headers["transfer-encoding"] === "chunked") {
      const parts: Buffer[] = [];
      for (;;) {
        const sizeEnd = data.indexOf("\r\n", at);
        const size = parseInt(data.subarray(at, sizeEnd).toString("latin1"), 16);
        at = sizeEnd + 2;
        if (!(size > 0)) {
          at += 2;
          break;
        }
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (!head) {
      const length = Number(headers["content-length"] ?? 0);
      body = data.subarray(at, at + length);
      at += length;
    }
    answers.push({ status: Number(statusLine.split(" ")[1]), headers, body: body.toString("utf8") });
  }
  return answers;
}

/** Whether the answer says the connection closes after it. */
export const saysClose = (answer: RawAnswer) => /(?:^|,)\s*close\s*(?:,|$)/i.test(answer.headers.connection ?? "");
