/** A thin client of the Docker engine API over its unix socket (no CLI spawn per sample). */
import * as fs from "fs";
import * as http from "http";
import { ContainerBootView } from "./boot";

export interface ContainerRef {
  id: string;
  name: string;
}

export interface ContainerLimits {
  /** CPU quota (NanoCpus or CpuQuota/CpuPeriod); null when unlimited. */
  cpus: number | null;
  memoryMb: number | null;
  /** Cores the container may run on ("" = any). */
  cpuset: string;
  networkMode: string;
}

/** How a container stands, for the message when it dies mid-run. */
export interface ContainerState {
  running: boolean;
  status: string;
  oomKilled: boolean;
  exitCode: number;
}

/** The parts of a stats reply the bench reads. */
export interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

interface InspectReply {
  Id: string;
  Name: string;
  State?: {
    Running?: boolean;
    Pid?: number;
    Status?: string;
    OOMKilled?: boolean;
    ExitCode?: number;
    StartedAt?: string;
    Health?: { Log?: { Start: string; End: string; ExitCode: number }[] | null };
  };
  Config?: { Healthcheck?: { Test?: string[]; Interval?: number; StartInterval?: number } | null };
  HostConfig?: { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; Memory?: number; NetworkMode?: string; CpusetCpus?: string };
  NetworkSettings?: { Ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> };
}

export type InspectedContainer = ContainerRef & { pid: number | null; limits: ContainerLimits; state: ContainerState; ports: PortMapping[]; boot: ContainerBootView };

/** One published port: container port → host port. */
export interface PortMapping {
  containerPort: number;
  hostPort: number;
}

interface ListedContainer {
  Id: string;
  Names: string[];
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number }[];
}

/** Cumulative CPU time of the container in nanoseconds (cgroup cpuacct / cpu.stat usage). */
export function cpuUsageNs(stats: EngineStats): number | null {
  return stats.cpu_stats?.cpu_usage?.total_usage ?? null;
}

/** Memory in use as `docker stats` shows it: usage minus inactive page cache (cgroup v1 and v2 keys). */
export function memoryInUseBytes(stats: EngineStats): number | null {
  const m = stats.memory_stats;
  if (m?.usage === undefined) return null;
  const s = m.stats ?? {};
  const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
  return Math.max(0, m.usage - inactive);
}

/** The CPU and memory limits the engine enforces (null when unlimited). */
export function limitsOf(hostConfig: InspectReply["HostConfig"]): ContainerLimits {
  const hc = hostConfig ?? {};
  let cpus: number | null = null;
  if (hc.NanoCpus) cpus = hc.NanoCpus / 1e9;
  else if (hc.CpuQuota && hc.CpuQuota > 0 && hc.CpuPeriod) cpus = hc.CpuQuota / hc.CpuPeriod;
  return { cpus, memoryMb: hc.Memory ? hc.Memory / 1024 / 1024 : null, cpuset: hc.CpusetCpus ?? "", networkMode: hc.NetworkMode ?? "default" };
}

/** Published TCP ports from an inspect reply's NetworkSettings.Ports ("8000/tcp" → [{HostPort}]). */
export function portMappings(ports: NonNullable<InspectReply["NetworkSettings"]>["Ports"]): PortMapping[] {
  return Object.entries(ports ?? {}).flatMap(([key, bindings]) => {
    const [port, proto] = key.split("/");
    if (proto !== "tcp") return [];
    return (bindings ?? []).map((b) => ({ containerPort: Number(port), hostPort: Number(b.HostPort) }));
  });
}

/** What a container's boot is read from: its start, its health check's intervals and the probes Docker kept. */
export function bootView(reply: Pick<InspectReply, "State" | "Config">): ContainerBootView {
  const check = reply.Config?.Healthcheck;
  const none = check === undefined || check === null || check.Test === undefined || check.Test.length === 0 || check.Test[0] === "NONE";
  return {
    startedAt: reply.State?.StartedAt ?? null,
    healthcheck: none ? null : { intervalNs: check.Interval ?? 0, startIntervalNs: check.StartInterval ?? 0 },
    log: (reply.State?.Health?.Log ?? []).map((p) => ({ start: p.Start, end: p.End, exitCode: p.ExitCode })),
  };
}

/** "exited (OOM-killed)", "exited (exit code 137: killed)": what became of a container that stopped. */
export function describeStop(state: ContainerState): string {
  if (state.oomKilled) return `${state.status} (OOM-killed)`;
  if (state.exitCode === 137) return `${state.status} (exit code 137: killed)`;
  return `${state.status} (exit code ${state.exitCode})`;
}

export class DockerEngine {
  constructor(private readonly socketPath: string) {}

  /** The local engine from DOCKER_HOST (unix:// only) or the default socket; null when there is none. */
  static local(env: NodeJS.ProcessEnv = process.env): DockerEngine | null {
    const host = env.DOCKER_HOST;
    if (host !== undefined && host !== "" && !host.startsWith("unix://")) return null;
    const socket = host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
    return fs.existsSync(socket) ? new DockerEngine(socket) : null;
  }

  private get<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.get({ socketPath: this.socketPath, path, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 500) >= 400) {
            let message = body;
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? body;
            } catch {
              // not JSON: keep the raw body
            }
            reject(new Error(`Docker engine ${path}: ${res.statusCode} ${message.trim()}`));
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on("timeout", () => req.destroy(new Error(`Docker engine ${path}: no answer in 10 s`)));
      req.on("error", reject);
    });
  }

  async version(): Promise<string> {
    const v = await this.get<{ Version: string; ApiVersion: string }>("/version");
    return `${v.Version} (API ${v.ApiVersion})`;
  }

  async inspect(nameOrId: string): Promise<InspectedContainer> {
    const c = await this.get<InspectReply>(`/containers/${encodeURIComponent(nameOrId)}/json`);
    const st = c.State ?? {};
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      pid: st.Running && st.Pid ? st.Pid : null,
      limits: limitsOf(c.HostConfig),
      state: { running: st.Running === true, status: st.Status ?? "unknown", oomKilled: st.OOMKilled === true, exitCode: st.ExitCode ?? 0 },
      ports: portMappings(c.NetworkSettings?.Ports),
      boot: bootView(c),
    };
  }

  /** Null while the container runs; else what happened to it ("exited (OOM-killed)", "was removed"). */
  async stopped(nameOrId: string): Promise<string | null> {
    try {
      const { state } = await this.inspect(nameOrId);
      return state.running ? null : describeStop(state);
    } catch (err) {
      if (/\b404\b/.test((err as Error).message)) return "was removed";
      throw err;
    }
  }

  /** The running container publishing this host port, if any. */
  async findByHostPort(port: number): Promise<ContainerRef | null> {
    const list = await this.get<ListedContainer[]>("/containers/json");
    const match = list.find((c) => (c.Ports ?? []).some((p) => p.PublicPort === port));
    return match === undefined ? null : { id: match.Id, name: match.Names[0].replace(/^\//, "") };
  }

  /** One stats reading without the engine's 1 s pre-sample wait (`one-shot`, API ≥ 1.41). */
  stats(id: string): Promise<EngineStats> {
    return this.get<EngineStats>(`/containers/${id}/stats?stream=false&one-shot=true`);
  }
}
