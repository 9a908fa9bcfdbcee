import { Policies } from "@pulumi/policy";
import { containerResourceLimits } from "./rules/containerLimits";
import { grafanaPasswordNotLiteral } from "./rules/grafanaPassword";
import { guestForwardsBindLoopback } from "./rules/guestForwards";
import { uniqueHostPorts } from "./rules/hostPorts";
import { portsBindLoopback } from "./rules/loopbackPorts";
import { memoryWithinHostBudget } from "./rules/memoryBudget";
import { pinnedImages } from "./rules/pinnedImages";
import { noUnexemptedPrivileged } from "./rules/privileged";
import { swapWithinMemory } from "./rules/swap";
import { unikernelMemorySet } from "./rules/unikernelMemory";

export {
  containerResourceLimits,
  grafanaPasswordNotLiteral,
  guestForwardsBindLoopback,
  memoryWithinHostBudget,
  noUnexemptedPrivileged,
  pinnedImages,
  portsBindLoopback,
  swapWithinMemory,
  uniqueHostPorts,
  unikernelMemorySet,
};

/** Name the pack is published and reported under. */
export const POLICY_PACK_NAME = "optivolt-lab";

/** Every policy of the pack, in the order the CLI lists them. */
export const policies: Policies = [
  containerResourceLimits,
  swapWithinMemory,
  noUnexemptedPrivileged,
  pinnedImages,
  portsBindLoopback,
  guestForwardsBindLoopback,
  unikernelMemorySet,
  grafanaPasswordNotLiteral,
  uniqueHostPorts,
  memoryWithinHostBudget,
];
