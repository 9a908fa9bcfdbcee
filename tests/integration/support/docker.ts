import * as fs from "fs";
import { execFile } from "child_process";

/** Output of one docker CLI call. */
export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** Raised when a docker CLI call exits non-zero; the message carries the command and docker's own words. */
export class DockerCommandError extends Error {
  constructor(
    public readonly args: readonly string[],
    public readonly exitCode: number | string | null,
    public readonly stderr: string,
  ) {
    super(`\`docker ${args.join(" ")}\` failed (exit ${exitCode}): ${stderr.trim() || "no output"}`);
    this.name = "DockerCommandError";
  }
}

/** Runs the docker CLI with the given arguments (no shell) and resolves with its output. */
export function docker(
  args: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "docker",
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code ?? null;
          reject(new DockerCommandError(args, code, `${stderr}${error.killed ? " (timed out)" : ""}` || error.message));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

let engineCheck: Promise<string> | undefined;

/**
 * Fails with the fix when no Docker engine answers (integration suites never skip).
 * Resolves with the engine version; checked once per process.
 */
export function requireDockerEngine(): Promise<string> {
  engineCheck ??= docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 20_000 }).then(
    (result) => result.stdout.trim(),
    (error: unknown) => {
      engineCheck = undefined;
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(
        "These integration tests need a running Docker engine and none answered. " +
          "Start one (as root: `dockerd &`, or `systemctl start docker`; on a fresh Debian machine " +
          "`apt-get install docker.io` first, which is what `.ci/run` does) and check that `docker info` works. " +
          `Docker said: ${detail}`,
      );
    },
  );
  return engineCheck;
}

/** Removes a container and its anonymous volumes; a container that does not exist is not an error. */
export async function removeContainer(name: string): Promise<void> {
  try {
    await docker(["rm", "--force", "--volumes", name], { timeoutMs: 60_000 });
  } catch (error) {
    if (error instanceof DockerCommandError && /No such container/i.test(error.stderr)) return;
    throw error;
  }
}

/** True when the engine has an image with this tag. */
export async function imageExists(tag: string): Promise<boolean> {
  try {
    await docker(["image", "inspect", "--format", "{{.Id}}", tag]);
    return true;
  } catch (error) {
    if (error instanceof DockerCommandError) return false;
    throw error;
  }
}

/** The parts of `docker inspect <container>` the suites read. */
export interface ContainerInspect {
  Id: string;
  State: { Status: string; Running: boolean; OOMKilled: boolean; ExitCode: number; StartedAt: string; Pid: number };
  Config: { User: string; Env: string[] };
  HostConfig: { NanoCpus: number; Memory: number; MemorySwap: number; CpusetCpus: string };
  RestartCount: number;
}

export async function inspectContainer(name: string): Promise<ContainerInspect> {
  const { stdout } = await docker(["container", "inspect", name]);
  return (JSON.parse(stdout) as ContainerInspect[])[0];
}

/**
 * Highest memory use the kernel recorded for a running container's cgroup, in bytes (cgroup v1
 * `memory.max_usage_in_bytes` or v2 `memory.peak`, read from the host's cgroup file system).
 */
export async function containerPeakMemoryBytes(id: string): Promise<number> {
  const candidates = [
    `/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.peak`,
    `/sys/fs/cgroup/docker/${id}/memory.peak`,
  ];
  for (const file of candidates) {
    try {
      return Number((await fs.promises.readFile(file, "utf8")).trim());
    } catch {
      // try the next layout
    }
  }
  throw new Error(`no cgroup memory peak file for container ${id} (looked at ${candidates.join(", ")})`);
}

/** CPU time a running container's cgroup has used so far, in seconds (cgroup v1 cpuacct or v2 cpu.stat). */
export async function containerCpuSeconds(id: string): Promise<number> {
  const v1 = `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`;
  try {
    return Number((await fs.promises.readFile(v1, "utf8")).trim()) / 1e9;
  } catch {
    for (const dir of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
      try {
        const stat = await fs.promises.readFile(`${dir}/cpu.stat`, "utf8");
        const usage = /^usage_usec (\d+)$/m.exec(stat);
        if (usage) return Number(usage[1]) / 1e6;
      } catch {
        // try the next layout
      }
    }
  }
  throw new Error(`no cgroup CPU accounting file for container ${id}`);
}

/**
 * A running container's working set in bytes, as cAdvisor and `docker stats` count it: memory in
 * use minus inactive page cache (which the kernel reclaims before it would OOM-kill). Unlike the
 * cgroup's recorded peak, it does not count file pages, e.g. the node binary, that the container
 * happened to read first.
 */
export async function containerWorkingSetBytes(id: string): Promise<number> {
  const layouts = [
    { usage: `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`, stat: `/sys/fs/cgroup/memory/docker/${id}/memory.stat`, inactive: "total_inactive_file" },
    { usage: `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`, stat: `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.stat`, inactive: "inactive_file" },
    { usage: `/sys/fs/cgroup/docker/${id}/memory.current`, stat: `/sys/fs/cgroup/docker/${id}/memory.stat`, inactive: "inactive_file" },
  ];
  for (const layout of layouts) {
    try {
      const usage = Number((await fs.promises.readFile(layout.usage, "utf8")).trim());
      const stat = await fs.promises.readFile(layout.stat, "utf8");
      const inactive = Number(new RegExp(`^${layout.inactive} (\\d+)$`, "m").exec(stat)?.[1] ?? 0);
      return Math.max(0, usage - inactive);
    } catch {
      // try the next layout
    }
  }
  throw new Error(`no cgroup memory files for container ${id}`);
}

/** Samples `containerWorkingSetBytes` every `intervalMs` until `stop()`, which resolves with the highest value seen. */
export function sampleWorkingSet(id: string, intervalMs = 100): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await containerWorkingSetBytes(id));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return Math.max(peak, await containerWorkingSetBytes(id));
    },
  };
}
