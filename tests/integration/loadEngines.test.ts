/**
 * The load engines against a real HTTP server in this process: every response counted once, and
 * with `pipeline` set, several requests per write on each connection. wrk must be installed
 * (`.ci/run` installs it); autocannon is a dependency.
 */
import * as assert from "assert";
import * as http from "http";
import * as net from "net";
import { createAutocannonEngine } from "../../bench/engines/autocannon";
import { LoadEngine } from "../../bench/engines/types";
import { createWrkEngine, findOnPath } from "../../bench/engines/wrk";

async function engines(): Promise<LoadEngine[]> {
  const wrk = findOnPath("wrk");
  if (wrk === null) throw new Error("wrk is not on PATH; install it (apt-get install wrk) or run .ci/run, which does");
  return [await createWrkEngine(wrk), createAutocannonEngine()];
}

describe("load engines against a real server", function () {
  this.timeout(30_000);
  let server: http.Server;
  let url: string;
  const seen = { requests: 0, reads: 0 };

  before(async function () {
    server = http.createServer((_req, res) => {
      seen.requests++;
      res.end("ok");
    });
    server.on("connection", (socket: net.Socket) => socket.on("data", () => seen.reads++));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  });

  after(function () {
    server.closeAllConnections();
    server.close();
  });

  for (const pipeline of [undefined, 8]) {
    it(`counts every response and sends ${pipeline ?? 1} request(s) per write`, async function () {
      for (const engine of await engines()) {
        seen.requests = 0;
        seen.reads = 0;
        const outcome = await engine.run({ url, connections: 2, threads: 1, durationSeconds: 1, timeoutSeconds: 2, pipeline, signal: new AbortController().signal });
        assert.ok(outcome.responses > 100, `${engine.name}: ${outcome.responses} responses`);
        // In-flight requests at the end are sent but not answered: at most connections × depth.
        assert.ok(seen.requests - outcome.responses <= 2 * (pipeline ?? 1), `${engine.name}: served ${seen.requests}, counted ${outcome.responses}`);
        const perRead = seen.requests / seen.reads;
        if (pipeline === undefined) assert.ok(perRead < 1.5, `${engine.name}: ${perRead.toFixed(1)} requests per read without pipelining`);
        else assert.ok(perRead > pipeline / 2, `${engine.name}: ${perRead.toFixed(1)} requests per read with a depth of ${pipeline}`);
      }
    });
  }
});
