import { ImageTarget, LabConfig, Runtime } from "./config";

/** Port the web API listens on inside every container; only the host port varies per variant. */
export const APP_PORT = 8000;

/** Docker name of a variant's container; Prometheus scrapes it by this name on the lab network. */
export function variantContainerName(config: Pick<LabConfig, "networkName">, variant: string): string {
  return `${config.networkName}-${variant}`;
}

/** The Dockerfile target of a variant: `minimal` on Node, `minimal-bun` on Bun (images/Dockerfile). */
export function dockerfileTarget(spec: { target: ImageTarget; runtime: Runtime }): string {
  return spec.runtime === "node" ? spec.target : `${spec.target}-${spec.runtime}`;
}

/** Local tag of the web API image for one Dockerfile target. */
export function webApiImageName(target: string): string {
  return `optivolt-webapi:${target}`;
}

/** Tags `npm run images:base` gives the locally built bases (no registry needed). */
export const LOCAL_BASE_IMAGES = {
  nodeImage: "optivolt/node:22-bookworm",
  nodeMinimalImage: "optivolt/node:22-minimal",
  bunImage: "optivolt/bun:1-bookworm",
  bunMinimalImage: "optivolt/bun:1-minimal",
} as const;
