/**
 * Limits of the values the web API reads from its environment, shared with the stack config's schema
 * (model/config/variants.ts) so the config refuses what the app would refuse at start. No
 * imports: it builds inside the image (rootDir src) and is read by the Pulumi program alike.
 */

/** Most worker processes (WORKERS) one container may fork. */
export const MAX_WORKERS = 256;
/** Longest variant name (VARIANT): a DNS label, since it also names the container and its metrics. */
export const MAX_VARIANT_NAME_LENGTH = 63;
