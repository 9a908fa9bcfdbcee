/**
 * Clients that pipeline requests as fast as the server takes them and never read an answer, for
 * the backpressure test. Run as its own process (so it can be started inside a container's network
 * namespace):
 *
 *   node -r ts-node/register neverReadingClients.ts <base-url> <clients> <requests-per-connection> <seconds>
 *
 * Each client writes `GET /api/light` requests, 100 per write, until it has written its share on
 * the connection or the socket refuses more (it then waits for it to drain); it never reads. When
 * the server closes the connection it opens another, until the time is up. Prints one JSON line:
 * requests written (into the kernel's buffers, read by the server or not) and connections the
 * server closed.
 */
import * as net from "net";

const BATCH = 100;
const REQUESTS = Buffer.concat(Array.from({ length: BATCH }, () => Buffer.from("GET /api/light HTTP/1.1\r\nHost: load\r\n\r\n")));

interface Counts {
  written: number;
  closedByServer: number;
}

function connection(host: string, port: number, share: number, deadline: number, counts: Counts): Promise<void> {
  return new Promise((resolve) => {
    let written = 0;
    const socket = net.connect({ host, port });
    socket.pause(); // never read
    const timer = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
    const pump = () => {
      while (written < share) {
        written += BATCH;
        counts.written += BATCH;
        if (!socket.write(REQUESTS)) {
          socket.once("drain", pump);
          return;
        }
      }
    };
    socket.on("connect", pump);
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      if (Date.now() < deadline) counts.closedByServer++;
      resolve();
    });
  });
}

async function client(host: string, port: number, share: number, deadline: number, counts: Counts): Promise<void> {
  while (Date.now() < deadline) {
    await connection(host, port, share, deadline, counts);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main(): Promise<void> {
  const [base, clients, share, seconds] = process.argv.slice(2);
  const url = new URL(base);
  const deadline = Date.now() + Number(seconds) * 1000;
  const counts: Counts = { written: 0, closedByServer: 0 };
  await Promise.all(Array.from({ length: Number(clients) }, () => client(url.hostname, Number(url.port), Number(share), deadline, counts)));
  process.stdout.write(`${JSON.stringify(counts)}\n`);
}

if (require.main === module) void main();
