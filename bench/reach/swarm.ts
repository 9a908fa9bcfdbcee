/**
 * The bench on a swarm: wrk runs as a one-shot Swarm task (a `replicated-job` service) constrained
 * to the load generator's nodes (`optivolt.role=loadgen`), on the lab's overlay network, against the
 * variant's service by name. Neither side shares a node's cores with the other; the result says
 * which node each side ran on. Talks to the manager through the docker CLI (DOCKER_HOST).
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BenchError } from "../errors";
import { parseWrkSummary } from "../engines/wrk";
import { LoadOutcome, LoadRequest } from "../engines/types";
import { docker, DockerCommandError } from "../../tooling/docker";

const SUMMARY_SCRIPT = path.join(__dirname, "..", "engines", "wrk-summary.lua");
/** Where the summary script is mounted in the generator's task (a Swarm config). */
const SCRIPT_IN_TASK = "/optivolt/wrk-summary.lua";
/** The node label the lab script gives the generator's node; variants may not run there. */
export const LOADGEN_CONSTRAINT = "node.labels.optivolt.role==loadgen";

export interface SwarmLoadOptions {
  /** The manager's engine, e.g. `tcp://127.0.0.1:23750` (what `docker:host` names). */
  dockerHost: string;
  /** The lab's attachable overlay network; the variant's service is reached by name on it. */
  network: string;
  /** An image whose entrypoint is wrk, present on (or pullable by) the loadgen nodes. */
  image: string;
  /** Placement of the generator (default: the nodes labelled optivolt.role=loadgen). */
  constraint?: string;
  /** Prefix of the job services and configs this creates (removed after each run). */
  namePrefix?: string;
}

/** A load run's outcome plus where its two sides ran. */
export interface SwarmLoadOutcome extends LoadOutcome {
  /** Hostname of the node the generator's task ran on. */
  generatorNode: string;
  /** Hostnames of the nodes running the target service's tasks while it ran. */
  targetNodes: string[];
}

/** Terminal states of a job's task, as `docker service ps` prints them ("Complete 2 seconds ago"). */
const FINISHED = /^(Complete|Failed|Rejected|Shutdown|Orphaned)\b/;

/** One `service ps` row: state|node|error. */
export function parseTaskRow(row: string): { state: string; node: string; error: string } {
  const [state = "", node = "", error = ""] = row.split("|");
  return { state: state.trim(), node: node.trim(), error: error.trim() };
}

/** The service a URL on the overlay network names (`http://<service>:8000/...`). */
export function serviceOfUrl(url: string): string {
  return new URL(url).hostname;
}

async function dockerCli(dockerHost: string, args: string[], input?: string): Promise<string> {
  try {
    return (await docker(args, { dockerHost, input, timeoutMs: 120_000 })).stdout;
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw new BenchError(`\`docker ${args.join(" ")}\` against ${dockerHost} failed: ${error.reason}`);
  }
}

/** The summary script as a Swarm config named after its content (configs are immutable). */
async function ensureScriptConfig(options: SwarmLoadOptions): Promise<string> {
  const script = fs.readFileSync(SUMMARY_SCRIPT, "utf8");
  const name = `${options.namePrefix ?? "optivolt-bench"}-wrk-${createHash("sha256").update(script).digest("hex").slice(0, 12)}`;
  const existing = await dockerCli(options.dockerHost, ["config", "ls", "--quiet", "--filter", `name=${name}`]);
  if (existing.trim() === "") await dockerCli(options.dockerHost, ["config", "create", "--label", "optivolt.role=loadgen", name, "-"], script);
  return name;
}

async function targetNodes(dockerHost: string, service: string): Promise<string[]> {
  const rows = await dockerCli(dockerHost, ["service", "ps", service, "--filter", "desired-state=running", "--format", "{{.Node}}"]);
  return [...new Set(rows.split("\n").map((r) => r.trim()).filter(Boolean))].sort();
}

/** Runs wrk once as a job on a loadgen node and returns what it measured and where. */
export async function runSwarmWrk(options: SwarmLoadOptions, request: LoadRequest): Promise<SwarmLoadOutcome> {
  const duration = Math.max(1, Math.round(request.durationSeconds));
  const target = serviceOfUrl(request.url);
  const targets = await targetNodes(options.dockerHost, target);
  if (targets.length === 0) throw new BenchError(`no running task of service ${target} on the swarm at ${options.dockerHost}; is the stack deployed?`);
  const config = await ensureScriptConfig(options);
  const job = `${options.namePrefix ?? "optivolt-bench"}-wrk-${randomBytes(3).toString("hex")}`;
  await dockerCli(options.dockerHost, [
    "service", "create", "--detach", "--quiet",
    "--name", job,
    "--mode", "replicated-job",
    "--restart-condition", "none",
    "--constraint", options.constraint ?? LOADGEN_CONSTRAINT,
    "--network", options.network,
    "--config", `source=${config},target=${SCRIPT_IN_TASK}`,
    "--label", "optivolt.role=loadgen",
    options.image,
    `-t${request.threads}`, `-c${request.connections}`, `-d${duration}s`, "--timeout", `${request.timeoutSeconds}s`,
    "-s", SCRIPT_IN_TASK, request.url,
  ]);
  try {
    const deadline = Date.now() + (duration + 120) * 1000;
    let task = { state: "", node: "", error: "" };
    while (!FINISHED.test(task.state)) {
      if (request.signal.aborted) throw new BenchError("the load run was aborted");
      if (Date.now() > deadline) throw new BenchError(`the load generator's task ${job} did not finish within ${duration + 120} s (last state: ${task.state || "none"})`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await dockerCli(options.dockerHost, ["service", "ps", job, "--no-trunc", "--format", "{{.CurrentState}}|{{.Node}}|{{.Error}}"]);
      task = parseTaskRow(rows.split("\n")[0] ?? "");
    }
    if (!task.state.startsWith("Complete")) {
      throw new BenchError(`the load generator's task on ${task.node || "no node"} ended ${task.state}: ${task.error || "no error reported"}; check that a node has the optivolt.role=loadgen label and the image ${options.image}`);
    }
    const logs = await dockerCli(options.dockerHost, ["service", "logs", "--raw", job]);
    return { ...parseWrkSummary(logs), clientCpuSeconds: 0, clientCores: request.threads, partial: false, generatorNode: task.node, targetNodes: targets };
  } finally {
    await dockerCli(options.dockerHost, ["service", "rm", job]).catch(() => undefined);
  }
}
