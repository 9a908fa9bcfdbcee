import { ImageTarget, LabConfig, Runtime } from "./config";

/** Name of the unikernel in `endpoints`, `variants` and its metrics' `variant` label. */
export const UNIKERNEL_VARIANT = "unikernel";

/** Port the web API listens on inside every container; only the host port varies per variant. */
export const APP_PORT = 8000;

/** How long the app's SIGTERM drain waits for in-flight requests (its SHUTDOWN_TIMEOUT_MS, set explicitly on every variant). */
export const APP_SHUTDOWN_TIMEOUT_MS = 5000;

/** Docker name of a variant's container; Prometheus scrapes it by this name on the lab network. */
export function variantContainerName(config: Pick<LabConfig, "networkName">, variant: string): string {
  return `${config.networkName}-${variant}`;
}

/** The Dockerfile target of a variant: `minimal` on Node, `minimal-bun` on Bun (images/Dockerfile). */
export function dockerfileTarget(spec: { target: ImageTarget; runtime: Runtime }): string {
  return spec.runtime === "node" ? spec.target : `${spec.target}-${spec.runtime}`;
}

/**
 * Local tag of the web API image for one Dockerfile target. A stack's images carry the stack in
 * their name (`optivolt-webapi-dev:minimal`), so two stacks on one engine never retag or remove
 * each other's; without a stack, the tag of hand and benchmark builds.
 */
export function webApiImageName(target: string, stackName?: string): string {
  // Docker repository names are lower-case; Pulumi stack names may not be.
  return stackName === undefined ? `optivolt-webapi:${target}` : `optivolt-webapi-${stackName.toLowerCase()}:${target}`;
}

/** Tags `npm run images:base` gives the locally built bases (no registry needed). */
export const LOCAL_BASE_IMAGES = {
  nodeImage: "optivolt/node:22-bookworm",
  nodeMinimalImage: "optivolt/node:22-minimal",
  bunImage: "optivolt/bun:1-bookworm",
  bunMinimalImage: "optivolt/bun:1-minimal",
} as const;
