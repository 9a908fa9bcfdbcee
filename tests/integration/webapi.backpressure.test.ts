import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { ApiServerStarter, containerStarter, docker, httpRequest, inspectContainer, requireDockerEngine, sampleWorkingSet, waitForHealth } from "./support";

/**
 * Issue 20 item 5: twenty clients that pipeline 50,000 `/api/light` requests each and never read
 * an answer, for 30 s, against the `minimal` and `minimal-bun` images (0.5 CPU / 128 MB): the
 * container is not OOM-killed, keeps running and still answers; its peak working set is printed.
 * The clients run inside the container's network namespace (Docker's userland proxy would buffer
 * for them).
 */
const CLIENTS = 20;
const REQUESTS_PER_CONNECTION = 50_000;
const SECONDS = 30;
const CLIENT_SCRIPT = path.join(__dirname, "support", "neverReadingClients.ts");
const REPO_ROOT = path.resolve(__dirname, "..", "..");

const starters: ApiServerStarter[] = [
  containerStarter({ target: "minimal", runtime: "node", cpus: 0.5, memoryMb: 128 }),
  containerStarter({ target: "minimal", runtime: "bun", cpus: 0.5, memoryMb: 128 }),
];

/**
 * The node:http process-wide bound (images/src/answerQueue.ts), shown in seconds: the `minimal`
 * image with its CPU quota lifted to 2 (one process), so it reads as fast as the kernel delivers,
 * and V8's old space capped at 16 MB. 100 such clients connect and write while the container is
 * paused (as a CPU quota or a GC pause would hold it), so every connection's first read is a full
 * 64 KiB of pipelined requests. Without the process-wide bound the closing connections' requests
 * pile up and V8 runs out of heap (Node 22: the image before it exits 139).
 */
const BURST = { clients: 100, seconds: 8, stoppedMs: 2000, nodeOptions: "--max-old-space-size=16 --max-semi-space-size=2" };
const burstStarter = containerStarter({ target: "minimal", runtime: "node", cpus: 2, memoryMb: 128 });

function runClients(prefix: string[], url: string, clients = CLIENTS, seconds = SECONDS): Promise<string> {
  const [command, ...args] = [...prefix, process.execPath, "-r", "ts-node/register", CLIENT_SCRIPT, url, String(clients), String(REQUESTS_PER_CONNECTION), String(seconds)];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(output.trim()) : reject(new Error(`the never-reading clients exited with code ${code}`))));
  });
}

describe("web API: never-reading pipelining clients against the minimal images", function () {
  this.timeout(10 * 60_000);

  before(async function () {
    await requireDockerEngine();
  });

  for (const starter of starters) {
    it(`${starter.description}: ${CLIENTS} clients × ${REQUESTS_PER_CONNECTION} requests unread for ${SECONDS} s, no OOM kill, still answering`, async function () {
      await starter.prepare();
      const server = await starter.start({ WORKERS: "auto" });
      try {
        const container = server.container!;
        const sampler = sampleWorkingSet(container);
        const clients = await runClients(server.direct.prefix, server.direct.url);
        const peak = await sampler.stop();
        const state = (await inspectContainer(container)).State;
        console.log(`      ${starter.description}: peak working set ${(peak / 2 ** 20).toFixed(1)} MiB of 128 MiB; clients ${clients}; OOM-killed ${state.OOMKilled}`);
        assert.strictEqual(state.OOMKilled, false, `OOM-killed\n${await server.output()}`);
        assert.strictEqual(state.Running, true, `the container stopped (exit ${state.ExitCode})\n${await server.output()}`);
        assert.strictEqual((await httpRequest(`${server.url}/health`)).status, 200, "answers once the clients have gone");
        assert.doesNotMatch(await server.output(), /heap out of memory|worker died/, "no process ran out of memory");
      } finally {
        await server.remove();
      }
    });
  }

  it(`${burstStarter.description}, one process, V8 old space 16 MB: ${BURST.clients} clients write while it is paused, it survives and answers`, async function () {
    await burstStarter.prepare();
    const server = await burstStarter.start({ WORKERS: "1", NODE_OPTIONS: BURST.nodeOptions });
    try {
      const container = server.container!;
      await docker(["pause", container]);
      const unpause = new Promise((resolve) => setTimeout(resolve, BURST.stoppedMs)).then(() => docker(["unpause", container]));
      const clients = await runClients(server.direct.prefix, server.direct.url, BURST.clients, BURST.seconds);
      await unpause;
      const state = (await inspectContainer(container)).State;
      console.log(`      clients ${clients}; running ${state.Running}`);
      assert.doesNotMatch(await server.output(), /heap out of memory/, "V8 did not run out of heap");
      assert.strictEqual(state.Running, true, `the container stopped (exit ${state.ExitCode})\n${await server.output()}`);
      // It first works through the reads it took in.
      const answeredAfterMs = await waitForHealth(server.url, 30_000);
      console.log(`      answered /health ${answeredAfterMs} ms after the clients left`);
    } finally {
      await server.remove();
    }
  });
});
