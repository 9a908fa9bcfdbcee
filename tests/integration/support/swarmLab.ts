// The three-node swarm lab (scripts/swarm-lab.sh) as integration suites use it: bring it up under
// the suite's own name, port and subnet, talk to the manager's engine API, run docker inside a node.
import { execFile } from "child_process";
import * as http from "http";
import * as path from "path";
import { docker, DockerResult } from "../../../tooling/docker";
import { until } from "./wait";

const LAB_SCRIPT = path.resolve(__dirname, "..", "..", "..", "scripts", "swarm-lab.sh");

export type LabNode = "manager" | "worker1" | "worker2";
export const LAB_NODES: readonly LabNode[] = ["manager", "worker1", "worker2"];

export interface SwarmLabOptions {
  /** Prefix of the lab's containers, volumes and network. */
  name: string;
  /** The lab network, a /24. */
  subnet: string;
}

export interface SwarmLab extends SwarmLabOptions {
  /** `unix:///run/optivolt-swarm-lab/<name>/docker.sock`, the last line `up` printed. */
  dockerHost: string;
  /** The manager's engine socket on the host (dockerHost without its scheme). */
  socket: string;
  /** `<manager address>:5000` (SWARM_LAB_REGISTRY): where every node reaches a registry on the manager. */
  registry: string;
  /** What `up` reported on stderr (bring-up times, node memory). */
  upLog: string;
}

function labEnv(options: SwarmLabOptions): NodeJS.ProcessEnv {
  return { ...process.env, SWARM_LAB_NAME: options.name, SWARM_LAB_SUBNET: options.subnet };
}

function runLabScript(action: "up" | "down", options: SwarmLabOptions): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    execFile("bash", [LAB_SCRIPT, action], { env: labEnv(options), timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`swarm-lab.sh ${action} failed (${error.code ?? error.signal}): ${stderr.trim() || stdout.trim()}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** `npm run swarm:lab -- up` under the suite's name; resolves once the three nodes form the swarm. */
export async function swarmLabUp(options: SwarmLabOptions): Promise<SwarmLab> {
  const { stdout, stderr } = await runLabScript("up", options);
  const lines = stdout.trim().split("\n");
  const last = lines[lines.length - 1];
  const match = /^DOCKER_HOST=unix:\/\/(\/run\/optivolt-swarm-lab\/[^/]+\/docker\.sock)$/.exec(last);
  if (!match) throw new Error(`swarm-lab.sh up did not end with DOCKER_HOST=unix:///run/optivolt-swarm-lab/<name>/docker.sock but with: ${last}`);
  const registry = lines.find((line) => line.startsWith("SWARM_LAB_REGISTRY="))?.slice("SWARM_LAB_REGISTRY=".length);
  if (registry !== `${nodeAddress(options, "manager")}:5000`) throw new Error(`swarm-lab.sh up printed SWARM_LAB_REGISTRY=${registry}, not the manager's address`);
  return { ...options, dockerHost: `unix://${match[1]}`, socket: match[1], registry, upLog: stderr };
}

/** `npm run swarm:lab -- down`; resolves with what it reported. */
export async function swarmLabDown(options: SwarmLabOptions): Promise<string> {
  return (await runLabScript("down", options)).stderr;
}

/** The node's container on the host engine (also its hostname and swarm node name). */
export function nodeContainer(lab: Pick<SwarmLabOptions, "name">, node: LabNode): string {
  return `${lab.name}-${node}`;
}

/** The node's address on the lab network (.2, .3, .4), where its host-mode ports listen. */
export function nodeAddress(lab: Pick<SwarmLabOptions, "subnet">, node: LabNode): string {
  return lab.subnet.replace(/\.0\/24$/, `.${LAB_NODES.indexOf(node) + 2}`);
}

/** Runs the docker CLI inside a node, against that node's engine. */
export function inNode(lab: Pick<SwarmLabOptions, "name">, node: LabNode, args: readonly string[], options: { timeoutMs?: number; input?: boolean } = {}): Promise<DockerResult> {
  return docker(["exec", nodeContainer(lab, node), "docker", ...args], { timeoutMs: options.timeoutMs ?? 120_000 });
}

/** Copies host images into a node (`docker save | docker load`), as one stream so shared layers go once. */
export function loadImagesIntoNode(lab: Pick<SwarmLabOptions, "name">, node: LabNode, images: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const command = `docker save ${images.map((i) => `'${i}'`).join(" ")} | docker exec -i '${nodeContainer(lab, node)}' docker load`;
    execFile("bash", ["-o", "pipefail", "-c", command], { timeout: 10 * 60_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`loading ${images.join(", ")} into ${node} failed: ${stderr.trim()}`)) : resolve(),
    );
  });
}

/** Calls the manager's engine API; rejects with the engine's message on a non-2xx answer. */
export function managerApi<T = unknown>(lab: Pick<SwarmLab, "socket">, method: string, apiPath: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath: lab.socket, method, path: `/v1.41${apiPath}`, headers: { "Content-Type": "application/json" } },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          if ((response.statusCode ?? 500) >= 300) reject(new Error(`${method} ${apiPath}: HTTP ${response.statusCode} ${text.trim()}`));
          else resolve((text ? JSON.parse(text) : undefined) as T);
        });
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The parts of a swarm task the suites read. */
export interface SwarmTask {
  ID: string;
  NodeID: string;
  DesiredState: string;
  Spec: { ContainerSpec: { Image: string } };
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID: string }; PortStatus?: { Ports?: { PublishedPort: number; PublishMode: string }[] } };
}

/** The tasks of one service, optionally only those the swarm wants in one desired state. */
export function serviceTasks(lab: Pick<SwarmLab, "socket">, service: string, desiredState?: string): Promise<SwarmTask[]> {
  const filters = { service: [service], ...(desiredState ? { "desired-state": [desiredState] } : {}) };
  return managerApi<SwarmTask[]>(lab, "GET", `/tasks?filters=${encodeURIComponent(JSON.stringify(filters))}`);
}

export interface SwarmNode {
  ID: string;
  Description: { Hostname: string };
  Spec: { Labels: Record<string, string>; Role: string };
  Status: { Addr: string };
}

export function swarmNodes(lab: Pick<SwarmLab, "socket">): Promise<SwarmNode[]> {
  return managerApi<SwarmNode[]>(lab, "GET", "/nodes");
}

/** Waits until every task the service wants running is running; resolves with them. */
export function serviceRunning(lab: Pick<SwarmLab, "socket">, service: string, replicas: number, deadlineMs = 120_000): Promise<SwarmTask[]> {
  return until(`${replicas} running task(s) of ${service}`, deadlineMs, async () => {
    const tasks = await serviceTasks(lab, service, "running");
    const failed = (await serviceTasks(lab, service)).find((t) => t.Status.State === "failed" || t.Status.State === "rejected");
    if (failed) throw new Error(`${service}: task ${failed.ID} ${failed.Status.State}: ${failed.Status.Err ?? ""}`);
    return tasks.length === replicas && tasks.every((t) => t.Status.State === "running") ? tasks : undefined;
  });
}
