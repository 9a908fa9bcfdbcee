/** The one wrapper of the docker CLI, and the engine checks built on it (no shell; no lab knowledge). */
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
    /** The exit code, or the spawn error's code (`ENOENT`: no docker CLI installed). */
    public readonly exitCode: number | string | null,
    public readonly stderr: string,
    /** Docker's own words, else the error of running it: what a one-line message quotes. */
    public readonly reason: string,
  ) {
    super(`\`docker ${args.join(" ")}\` failed (exit ${exitCode}): ${stderr.trim() || "no output"}`);
    this.name = "DockerCommandError";
  }
}

export interface DockerCallOptions {
  /** 0: no limit. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** The engine to talk to (`DOCKER_HOST`); the environment's when absent. */
  dockerHost?: string;
  /** Written to the CLI's standard input (`docker config create NAME -`). */
  input?: string;
}

/** Runs the docker CLI with the given arguments and resolves with its output. */
export function docker(args: readonly string[], options: DockerCallOptions = {}): Promise<DockerResult> {
  const env = { ...process.env, ...options.env, ...(options.dockerHost === undefined ? {} : { DOCKER_HOST: options.dockerHost }) };
  return new Promise((resolve, reject) => {
    const child = execFile("docker", args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0, env }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code ?? null;
        reject(new DockerCommandError(args, code, `${stderr}${error.killed ? " (timed out)" : ""}` || error.message, stderr.trim() || error.message));
      } else {
        resolve({ stdout, stderr });
      }
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
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

/** The parts of `docker inspect <container>` its callers read. */
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
