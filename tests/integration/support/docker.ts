import * as fs from "fs";
import * as path from "path";
import { execFile } from "child_process";
import { CgroupFiles, locateCgroup, readCpuNs, readMemoryBytes } from "../../../bench/cgroup";

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

/** The cgroup files of a running container, located from its init process like the bench does. */
export async function containerCgroup(id: string): Promise<CgroupFiles> {
  const pid = (await inspectContainer(id)).State.Pid;
  const files = locateCgroup(pid);
  if (files === null) throw new Error(`cannot read the cgroup files of container ${id} (pid ${pid}) from this host`);
  return files;
}

/**
 * Highest memory use the kernel recorded for a running container's cgroup, in bytes (cgroup v1
 * `memory.max_usage_in_bytes` or v2 `memory.peak`).
 */
export async function containerPeakMemoryBytes(id: string): Promise<number> {
  const files = await containerCgroup(id);
  const file = path.join(files.memoryDir, files.version === 1 ? "memory.max_usage_in_bytes" : "memory.peak");
  return Number((await fs.promises.readFile(file, "utf8")).trim());
}

/** CPU time a running container's cgroup has used so far, in seconds. */
export async function containerCpuSeconds(id: string): Promise<number> {
  return readCpuNs(await containerCgroup(id)) / 1e9;
}

/**
 * A running container's working set in bytes, as cAdvisor and `docker stats` count it: memory in
 * use minus inactive page cache (which the kernel reclaims before it would OOM-kill). Unlike the
 * cgroup's recorded peak, it does not count file pages, e.g. the node binary, that the container
 * happened to read first.
 */
export async function containerWorkingSetBytes(id: string): Promise<number> {
  return readMemoryBytes(await containerCgroup(id));
}

/**
 * What became of a container whose cgroup is gone (it exited, or was restarted): its state, exit
 * code, OOM flag and last log lines, for an assertion message.
 */
export async function describeGoneContainer(id: string, logLines = 20): Promise<string> {
  try {
    const { State, RestartCount } = await inspectContainer(id);
    const logs = await docker(["logs", "--tail", String(logLines), id]);
    const tail = `${logs.stdout}${logs.stderr}`.trim() || "(no output)";
    return `container ${id} is ${State.Status} (exit code ${State.ExitCode}, OOM-killed ${State.OOMKilled}, restarts ${RestartCount}); its last ${logLines} log lines:\n${tail}`;
  } catch (error) {
    return `container ${id} no longer exists (${error instanceof Error ? error.message : String(error)})`;
  }
}

/**
 * Samples the working set every `intervalMs` until `stop()`, which resolves with the highest value
 * seen. When the container's cgroup vanishes meanwhile (the container died or restarted), `stop()`
 * rejects with what became of the container instead of a cgroup file's ENOENT.
 */
export function sampleWorkingSet(id: string, intervalMs = 100): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  let gone = false;
  const files = containerCgroup(id);
  const read = (cgroup: CgroupFiles): void => {
    try {
      peak = Math.max(peak, readMemoryBytes(cgroup));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      gone = true;
    }
  };
  const loop = (async () => {
    const cgroup = await files;
    while (running && !gone) {
      read(cgroup);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (!gone) read(await files);
      if (gone) throw new Error(`the container's cgroup vanished while its memory was sampled (peak so far ${(peak / 2 ** 20).toFixed(1)} MiB): ${await describeGoneContainer(id)}`);
      return peak;
    },
  };
}
