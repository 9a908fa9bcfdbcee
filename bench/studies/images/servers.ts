/** The benchmark's server containers: created on the host network, pinned to one CPU, removed at the end. */
import * as http from "http";
import { docker, removeContainer } from "../../../tooling/docker";
import { waitForHealth } from "../../../tooling/health";

export interface ServerSpec {
  /** Bench variant name (lower-case letters, digits, dashes). */
  name: string;
  /** What serves the routes (`node`, `bun`, `python`), shown in the bench report. */
  runtime: string;
  port: number;
  cpus: number;
  /** CPUs the container may run on (`--cpuset-cpus`). */
  cpuset: string;
  memoryMb: number;
  image: string;
  env?: Record<string, string>;
  /** `host:container[:ro]` bind mounts. */
  mounts?: string[];
  command?: string[];
}

export interface Server {
  spec: ServerSpec;
  /** Container name. */
  container: string;
  url: string;
}

const PREFIX = `ovimages-bench-${process.pid}`;
const created = new Set<string>();

/** Creates (does not start) the container of a server. */
export async function createServer(spec: ServerSpec): Promise<Server> {
  const container = `${PREFIX}-${spec.name}`;
  await removeContainer(container);
  created.add(container);
  const env = { PORT: String(spec.port), VARIANT: spec.name, ...spec.env };
  await docker([
    "create", "--name", container, "--network", "host",
    "--cpus", String(spec.cpus), "--cpuset-cpus", spec.cpuset,
    "--memory", `${spec.memoryMb}m`, "--memory-swap", `${spec.memoryMb}m`,
    ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...(spec.mounts ?? []).flatMap((m) => ["--volume", m]),
    spec.image,
    ...(spec.command ?? []),
  ]);
  return { spec, container, url: `http://127.0.0.1:${spec.port}` };
}

export async function startServer(spec: ServerSpec): Promise<Server> {
  const server = await createServer(spec);
  await docker(["start", server.container]);
  await waitForHealth(server.url, 30_000);
  return server;
}

export async function stopServer(server: Server): Promise<void> {
  await removeContainer(server.container);
  created.delete(server.container);
}

/** Removes every container this process created and has not removed yet. */
export async function removeAllServers(): Promise<void> {
  await Promise.all([...created].map((name) => removeContainer(name).catch(() => undefined)));
}

/** One GET /health on a fresh connection; true on 200 (start-up is timed with it, so no retry inside). */
export function answersHealth(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false, timeout: 500 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}
