import { StackValidationPolicy } from "@pulumi/policy";
import { withDefaults } from "../config";
import { hostClaims } from "../published";

export interface MemoryBudgetConfig {
  /** Memory the lab may reserve on its host, in MB. */
  hostMemoryBudgetMb: number;
}
export const MEMORY_BUDGET_DEFAULTS: MemoryBudgetConfig = { hostMemoryBudgetMb: 4096 };

/** Limits that add up to more than the host has make the host, not the limit, the bottleneck. */
export const memoryWithinHostBudget: StackValidationPolicy = {
  name: "memory-within-host-budget",
  description: "The memory limits of every container and the unikernel add up to no more than the host budget.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      hostMemoryBudgetMb: { type: "number", exclusiveMinimum: 0, default: MEMORY_BUDGET_DEFAULTS.hostMemoryBudgetMb, description: "Memory the lab may reserve on its host, in MB." },
    },
  },
  validateStack: (args, reportViolation) => {
    const { hostMemoryBudgetMb } = withDefaults(args.getConfig, MEMORY_BUDGET_DEFAULTS);
    const limited = hostClaims(args.resources).filter((c) => c.memoryMb !== undefined);
    const total = limited.reduce((sum, c) => sum + (c.memoryMb ?? 0), 0);
    if (total <= hostMemoryBudgetMb) return;
    const parts = limited
      .sort((a, b) => (b.memoryMb ?? 0) - (a.memoryMb ?? 0))
      .map((c) => `${c.label} ${c.memoryMb} MB`)
      .join(", ");
    reportViolation(
      `Memory limits add up to ${total} MB, over the host budget of ${hostMemoryBudgetMb} MB (${parts}); ` +
        "lower the variants' memoryMb or raise memory-within-host-budget.hostMemoryBudgetMb in the pack config.",
    );
  },
};
