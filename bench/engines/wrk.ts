/** wrk as the load engine: a C generator that outruns any Node one; results come from a Lua done() hook. */
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { reapedChildrenCpuSeconds } from "../proc";
import { LoadEngine, LoadOutcome, LoadRequest } from "./types";

const SUMMARY_SCRIPT = path.join(__dirname, "wrk-summary.lua");
const PIPELINE_SCRIPT = path.join(__dirname, "wrk-pipeline.lua");
const MARKER = "OPTIVOLT_WRK_JSON ";

interface WrkSummary {
  durationUs: number;
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/** Reads the JSON line printed by wrk-summary.lua out of wrk's stdout. */
export function parseWrkSummary(stdout: string): Omit<LoadOutcome, "clientCpuSeconds" | "clientCores" | "partial"> {
  const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout.trim()}`);
  const s = JSON.parse(line.slice(MARKER.length)) as WrkSummary;
  const ms = (us: number) => us / 1000;
  return {
    durationSeconds: s.durationUs / 1e6,
    responses: s.requests,
    bytes: s.bytes,
    latencyMs: { p50: ms(s.latencyUs.p50), p90: ms(s.latencyUs.p90), p99: ms(s.latencyUs.p99), max: ms(s.latencyUs.max), mean: ms(s.latencyUs.mean) },
    errors: { connect: s.errors.connect, socket: s.errors.read + s.errors.write, timeouts: s.errors.timeout, non2xx: s.errors.status },
  };
}

/** Absolute path of an executable on PATH, or null. */
export function findOnPath(command: string, envPath = process.env.PATH ?? ""): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** `wrk -v` prints its version on the first line and exits 1. */
function wrkVersion(binary: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(binary, ["-v"], (_err, stdout, stderr) => {
      const first = `${stdout}${stderr}`.split("\n")[0].trim();
      resolve(first.replace(/^wrk\s+/, "").replace(/\s+Copyright.*$/, "") || "(unknown version)");
    });
  });
}

export async function createWrkEngine(binary: string): Promise<LoadEngine> {
  return { name: "wrk", version: await wrkVersion(binary), run: (request) => runWrk(binary, request) };
}

function runWrk(binary: string, r: LoadRequest): Promise<LoadOutcome> {
  const pipeline = r.pipeline ?? 1;
  const args = [
    `-t${r.threads}`,
    `-c${r.connections}`,
    `-d${Math.max(1, Math.round(r.durationSeconds))}s`,
    `--timeout`,
    `${r.timeoutSeconds}s`,
    "-s",
    pipeline > 1 ? PIPELINE_SCRIPT : SUMMARY_SCRIPT,
    r.url,
    ...(pipeline > 1 ? ["--", String(pipeline)] : []),
  ];
  const cpuBefore = reapedChildrenCpuSeconds() ?? 0;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // wrk stops on SIGINT and still prints its summary (and runs done()).
    const stop = () => {
      partial = true;
      child.kill("SIGINT");
    };
    r.signal.addEventListener("abort", stop, { once: true });
    if (r.signal.aborted) stop();
    child.on("error", reject);
    child.on("close", () => {
      r.signal.removeEventListener("abort", stop);
      try {
        const summary = parseWrkSummary(stdout);
        const clientCpuSeconds = Math.max(0, (reapedChildrenCpuSeconds() ?? cpuBefore) - cpuBefore);
        resolve({ ...summary, clientCpuSeconds, clientCores: r.threads, partial });
      } catch (err) {
        reject(new Error(`wrk failed against ${r.url}: ${(stderr || stdout).trim() || (err as Error).message}`));
      }
    });
  });
}
