import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import { ApiServerStarter, containerStarter, httpRequest, inspectContainer, requireDockerEngine, sampleWorkingSet } from "./support";

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

function runClients(prefix: string[], url: string): Promise<string> {
  const [command, ...args] = [...prefix, process.execPath, "-r", "ts-node/register", CLIENT_SCRIPT, url, String(CLIENTS), String(REQUESTS_PER_CONNECTION), String(SECONDS)];
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
});
