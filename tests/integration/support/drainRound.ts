import { spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import { StartedApiServer } from "./apiServers";
import { LoadCounts } from "./keepAliveLoad";

const LOAD_SCRIPT = path.join(__dirname, "keepAliveLoad.ts");
const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface DrainRound {
  counts: LoadCounts;
  exitCode: number | null;
  /** From the stop call to the server's exit. */
  stopMs: number;
}

/**
 * One round of the drain test: `clients` keep-alive clients (keepAliveLoad.ts, started where they
 * reach the server directly; pipelining `depth` requests when above 1) send steadily for `loadMs`, then the server is stopped with its
 * grace period while they keep sending; resolves with what the clients counted.
 */
export async function drainRound(server: StartedApiServer, options: { clients: number; loadMs: number; graceSeconds: number; depth?: number }): Promise<DrainRound> {
  const [command, ...prefixArgs] = [...server.direct.prefix, process.execPath];
  const load = spawn(command, [...prefixArgs, "-r", "ts-node/register", LOAD_SCRIPT, server.direct.url, String(options.clients), String(options.depth ?? 1)], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: load.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load client exited with code ${code}`));
      load.once("exit", onExit);
      lines.once("line", (line) => {
        load.off("exit", onExit);
        resolve(line);
      });
    });
  try {
    const ready = nextLine();
    await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error("the load clients got no answers within 30 s")), 30_000))]);
    await new Promise((resolve) => setTimeout(resolve, options.loadMs));
    load.stdin.write("mark\n");
    const started = Date.now();
    const exitCode = await server.stop(options.graceSeconds);
    const stopMs = Date.now() - started;
    // Let the last closes reach the clients before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counts = nextLine();
    load.stdin.write("stop\n");
    return { counts: JSON.parse(await counts) as LoadCounts, exitCode, stopMs };
  } finally {
    if (load.exitCode === null) load.kill("SIGKILL");
  }
}
