import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe, withDefaults } from "../config";
import { positiveNumber } from "../values";

export interface SwapConfig {
  /** Largest swap allowed, as a multiple of the memory limit. */
  maxSwapRatio: number;
}
export const SWAP_DEFAULTS: SwapConfig = { maxSwapRatio: 1 };

/**
 * Docker's `memorySwap` is memory + swap; unset means swap equal to memory, `-1` means unlimited.
 * Unbounded swap turns an out-of-memory crash into a slow variant, which skews the comparison.
 */
export const swapWithinMemory: ResourceValidationPolicy = {
  name: "container-swap-within-memory",
  description: "A container's swap is no larger than its memory limit, so the memory budget is real.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      maxSwapRatio: { type: "number", minimum: 0, default: SWAP_DEFAULTS.maxSwapRatio, description: "Allowed swap as a multiple of the memory limit." },
    },
  },
  validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    const memory = positiveNumber(container.memory);
    if (memory === undefined) return args.notApplicable("the container has no memory limit (see container-resource-limits)");
    const { maxSwapRatio } = withDefaults(args.getConfig, SWAP_DEFAULTS);
    const total = container.memorySwap;
    const allowedTotal = memory * (1 + maxSwapRatio);
    const fix = `set \`memorySwap\` to ${memory} (no swap) or at most ${allowedTotal} (memory + swap)`;
    const who = describe("docker.Container", args.name);
    if (total === -1) {
      reportViolation(`${who} allows unlimited swap (memorySwap -1); ${fix}.`);
    } else if (total === undefined || total === null) {
      if (maxSwapRatio < 1) reportViolation(`${who} leaves memorySwap unset, so Docker grants ${memory} MB of swap; ${fix}.`);
    } else if (total - memory > memory * maxSwapRatio) {
      reportViolation(`${who} allows ${total - memory} MB of swap for ${memory} MB of memory; ${fix}.`);
    }
  }),
};
