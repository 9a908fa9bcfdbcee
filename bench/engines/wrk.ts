/** wrk as the load engine: a C generator that outruns any Node one; results come from a Lua done() hook. */
import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BenchError } from "../errors";
import { CLOCK_TICKS, reapedChildrenCpuSeconds } from "../counters/proc";
import { LoadEngine, LoadOutcome, LoadRequest } from "./types";

const SUMMARY_SCRIPT = path.join(__dirname, "wrk-summary.lua");
const PIPELINE_SCRIPT = path.join(__dirname, "wrk-pipeline.lua");
const MARKER = "OPTIVOLT_WRK_JSON ";
/** Where the generator container sees bench/engines (bind-mounted read-only). */
const SCRIPTS_IN_CONTAINER = "/optivolt-bench";

interface WrkSummary {
  durationUs: number;
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** wrk's own CPU time in ticks; -1 or absent when /proc/self/stat was unreadable. */
  cpuTicks?: number;
}

/** Reads the JSON line printed by wrk-summary.lua out of wrk's stdout. */
export function parseWrkSummary(stdout: string): Omit<LoadOutcome, "clientCpuSeconds" | "clientCores" | "partial"> & { ownCpuSeconds: number | null } {
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
    ownCpuSeconds: s.cpuTicks === undefined || s.cpuTicks < 0 ? null : s.cpuTicks / CLOCK_TICKS,
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
  return {
    name: "wrk",
    version: await wrkVersion(binary),
    run: (request) => runWrk({ command: binary, prefix: [], scriptsDir: path.dirname(SUMMARY_SCRIPT), cores: request.threads }, request),
  };
}

/** Where the generator container runs: a variant's network namespace (or the host's), pinned cores. */
export interface WrkContainerPlacement {
  image: string;
  /** `--network` of the generator: `container:<variant>` to join its namespace, `host` for a port QEMU forwards. */
  network: string;
  /** --cpuset-cpus for the generator; null leaves it unpinned. */
  cpuset: string | null;
  /** Cores the generator may use (its cpuset's size, or the host's). */
  cores: number;
  /** Name of the generator container (one at a time per placement). */
  name: string;
}

/** The Debian package version the image carries (a label images/base/build-swarm-lab.sh sets). */
function imageWrkVersion(image: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("docker", ["image", "inspect", "--format", '{{index .Config.Labels "org.optivolt.wrk-version"}}', image], (err, stdout, stderr) => {
      if (err) {
        reject(new BenchError(`the load generator image ${image} is missing (${stderr.trim() || err.message}); build it with \`npm run images:base\` (as root), or measure through the published port with --path published`));
        return;
      }
      resolve(`${stdout.trim() || "(unknown version)"} in ${image}`);
    });
  });
}

/** Names of generator containers still running, removed if the bench is killed outright. */
const liveGenerators = new Set<string>();
process.on("exit", () => {
  for (const name of liveGenerators) {
    try {
      execFileSync("docker", ["rm", "--force", name], { stdio: "ignore", timeout: 10_000 });
    } catch {
      // already gone
    }
  }
});

/** wrk in a container of the generator image, on the network `placement` names. */
export async function createContainerWrkEngine(placement: WrkContainerPlacement): Promise<LoadEngine> {
  const version = await imageWrkVersion(placement.image);
  const prefix = [
    "run", "--rm", "--init",
    "--name", placement.name,
    "--network", placement.network,
    ...(placement.cpuset === null ? [] : ["--cpuset-cpus", placement.cpuset]),
    "--volume", `${path.dirname(SUMMARY_SCRIPT)}:${SCRIPTS_IN_CONTAINER}:ro`,
    "--label", "optivolt.role=bench-load-generator",
    placement.image,
  ];
  return {
    name: "wrk",
    version,
    run: async (request) => {
      liveGenerators.add(placement.name);
      try {
        return await runWrk({ command: "docker", prefix, scriptsDir: SCRIPTS_IN_CONTAINER, cores: Math.min(request.threads, placement.cores) }, request);
      } finally {
        liveGenerators.delete(placement.name);
      }
    },
  };
}

interface WrkInvocation {
  /** Executable: wrk itself, or `docker` for the generator container. */
  command: string;
  /** Arguments before wrk's own (`run ... IMAGE` for the container; the image's entrypoint is wrk). */
  prefix: string[];
  /** Directory holding the Lua scripts, as wrk sees it. */
  scriptsDir: string;
  cores: number;
}

function runWrk(how: WrkInvocation, r: LoadRequest): Promise<LoadOutcome> {
  const pipeline = r.pipeline ?? 1;
  const script = path.posix.join(how.scriptsDir, path.basename(pipeline > 1 ? PIPELINE_SCRIPT : SUMMARY_SCRIPT));
  const args = [
    ...how.prefix,
    `-t${r.threads}`,
    `-c${r.connections}`,
    `-d${Math.max(1, Math.round(r.durationSeconds))}s`,
    `--timeout`,
    `${r.timeoutSeconds}s`,
    "-s",
    script,
    r.url,
    ...(pipeline > 1 ? ["--", String(pipeline)] : []),
  ];
  const cpuBefore = reapedChildrenCpuSeconds() ?? 0;
  return new Promise((resolve, reject) => {
    const child = spawn(how.command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // wrk stops on SIGINT and still prints its summary (and runs done()); `docker run` forwards
    // the signal to the container, whose init passes it to wrk.
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
        const { ownCpuSeconds, ...summary } = parseWrkSummary(stdout);
        const reaped = Math.max(0, (reapedChildrenCpuSeconds() ?? cpuBefore) - cpuBefore);
        resolve({ ...summary, clientCpuSeconds: ownCpuSeconds ?? reaped, clientCores: how.cores, partial });
      } catch (err) {
        reject(new Error(`wrk failed against ${r.url}: ${(stderr || stdout).trim() || (err as Error).message}`));
      }
    });
  });
}
