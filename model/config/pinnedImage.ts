import { z } from "zod";

/**
 * An image reference pinned to a version tag or digest (never untagged or `latest`): a registry
 * mirror or a preloaded offline image both work. Build bases and pulled images alike, so two runs
 * of the lab compare the same software.
 */
export const pinnedImage = z
  .string()
  .min(1)
  .refine((ref) => ref.includes("@") || /:[^/:]+$/.test(ref), "must be pinned to a version tag or digest (e.g. node:22-bookworm-slim)")
  .refine((ref) => !ref.endsWith(":latest"), "must not use the `latest` tag");
