import { ChildProcess, execFile, spawn } from "child_process";
import * as path from "path";
import { ImageTarget, Runtime } from "../../../model/config";
import { APP_PORT } from "../../../model/naming";
import { docker, inspectContainer, removeContainer, requireDockerEngine } from "../../../tooling/docker";
import { ensureWebApiImages, freeLoopbackPort, IMAGES_DIR, runVariantContainer, testImageTag, waitForHealth } from "./webapi";

/**
 * One way of running the web API for the contract and drain suites: a local process of either
 * runtime, or a container from the real image. Suites take a list of starters and run the same
 * tests against each, so a new way (e.g. the Bun image) is one more starter.
 */
export interface ApiServerStarter {
  /** e.g. "bun, local process"; used in test titles. */
  readonly description: string;
  readonly runtime: "node" | "bun";
  /** Once per suite, before `start`: compile the app, build the image... */
  prepare(): Promise<void>;
  /** Starts a server with this environment (PORT/HOST are the starter's) and waits for /health. */
  start(env?: Record<string, string>): Promise<StartedApiServer>;
}

export interface StartedApiServer {
  /** Base URL the test process reaches the server on. */
  readonly url: string;
  /** The container's name, for a server that runs in one. */
  readonly container?: string;
  /**
   * How to run a program that reaches the server with nothing in between (no Docker userland
   * proxy, which accepts connections for a container that no longer listens): a command prefix
   * and the URL to use from there.
   */
  readonly direct: { prefix: string[]; url: string };
  /** Stops it as its platform does: SIGTERM, SIGKILL after `graceSeconds`. Resolves with the exit code. */
  stop(graceSeconds: number): Promise<number | null>;
  /** What the server printed so far (for failure messages). */
  output(): Promise<string>;
  /** Removes what is left (the container); safe after `stop` and twice. */
  remove(): Promise<void>;
}

const REPO_ROOT = path.resolve(IMAGES_DIR, "..");
const BUN_BINARY = path.join(REPO_ROOT, "node_modules", "@oven", "bun-linux-x64", "bin", "bun");
const ENTRIES = { node: ["dist/server.js"], bun: ["dist/bun-server.js"] } as const;

let compiled: Promise<void> | undefined;

/** Compiles images/src into images/dist once per process, with the same tsc the Dockerfile runs. */
export function compileWebApi(): Promise<void> {
  compiled ??= new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", IMAGES_DIR], (error, stdout) => {
      if (error) reject(new Error(`tsc -p images failed:\n${stdout}`));
      else resolve();
    });
  });
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/** Resolves with the exit code once the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** The web API as a process of this machine, on a loopback port. */
export function localProcessStarter(runtime: "node" | "bun"): ApiServerStarter {
  return {
    description: `${runtime}, local process`,
    runtime,
    prepare: compileWebApi,
    async start(env = {}) {
      const port = await freeLoopbackPort();
      const command = runtime === "node" ? process.execPath : BUN_BINARY;
      const child = spawn(command, [...ENTRIES[runtime]], {
        cwd: IMAGES_DIR,
        env: { ...process.env, NODE_OPTIONS: "", VARIANT: "contract", ...env, PORT: String(port), HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const url = `http://127.0.0.1:${port}`;
      const server: StartedApiServer = {
        url,
        direct: { prefix: [], url },
        async stop(graceSeconds) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), graceSeconds * 1000);
          const code = await exited(child);
          clearTimeout(timer);
          return code;
        },
        output: async () => output,
        async remove() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited(child);
        },
      };
      try {
        await Promise.race([
          waitForHealth(url, 30_000),
          exited(child).then((code) => Promise.reject(new Error(`exited with code ${code} before answering /health:\n${output}`))),
        ]);
      } catch (error) {
        await server.remove();
        throw error;
      }
      return server;
    },
  };
}

let containerSerial = 0;

export interface ContainerStarterOptions {
  target: ImageTarget;
  cpus: number;
  memoryMb: number;
  /** Default "node". */
  runtime?: Runtime;
  /** Image to run; default the test image of `target` on `runtime` (built by `prepare`). */
  image?: string;
  /** Builds `image`; default builds the test images of every target on both runtimes. */
  build?: () => Promise<unknown>;
}

/**
 * The web API as a container of the real image (built from the local bases), stopped with
 * `docker stop --time <grace>` like the Docker provider does with `destroyGraceSeconds`.
 * Container names start with the test image repository, so concurrent checkouts stay apart.
 */
export function containerStarter(options: ContainerStarterOptions): ApiServerStarter {
  const runtime = options.runtime ?? "node";
  return {
    description: `${runtime}, ${options.target} image (${options.cpus} CPU, ${options.memoryMb} MB)`,
    runtime,
    prepare: async () => {
      await requireDockerEngine();
      await (options.build ?? ensureWebApiImages)();
    },
    async start(env = {}) {
      const repo = testImageTag("x").split(":")[0].replace(/[^a-zA-Z0-9_.-]/g, "-");
      const name = `${repo}-${options.target}-${runtime}-${process.pid}-${++containerSerial}`;
      const { target, cpus, memoryMb, image } = options;
      const container = await runVariantContainer({ name, target, runtime, cpus, memoryMb, image, env: { VARIANT: "contract", ...env } });
      const server: StartedApiServer = {
        url: container.url,
        container: name,
        // The container's own network namespace, entered from the host (needs root, as the engine does).
        direct: {
          prefix: ["nsenter", `--net=/proc/${(await inspectContainer(name)).State.Pid}/ns/net`],
          url: `http://127.0.0.1:${APP_PORT}`,
        },
        async stop(graceSeconds) {
          await docker(["stop", "--time", String(graceSeconds), name], { timeoutMs: (graceSeconds + 30) * 1000 });
          return (await inspectContainer(name)).State.ExitCode;
        },
        output: async () => {
          const logs = await docker(["logs", name]);
          return logs.stdout + logs.stderr;
        },
        remove: () => removeContainer(name),
      };
      try {
        await waitForHealth(container.url, 30_000);
      } catch (error) {
        const logs = await server.output().catch(() => "");
        await server.remove();
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
      }
      return server;
    },
  };
}
