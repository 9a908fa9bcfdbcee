import * as command from "@pulumi/command";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe } from "../config";
import { unikernelRunOf } from "../unikernelRun";
import { known, UNKNOWN } from "../values";

/**
 * kraft's default memory is whatever its version picks, and QEMU's is 128 MiB: either way the
 * unikernel's budget must be the one configured, for both builders.
 */
export const unikernelMemorySet: ResourceValidationPolicy = {
  name: "unikernel-memory-set",
  description: "The unikernel's `kraft run` (-M/--memory) or `qemu.sh start` (--memory) command sets its memory explicitly, above 0.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(command.local.Command, (cmd, args, reportViolation) => {
    // The source builder's QEMU line names the lab network's gateway, unknown until the network
    // exists: at preview there is nothing to read yet, and the update's run of the pack checks it.
    const create = known(() => cmd.create);
    if (create === UNKNOWN) return;
    const run = unikernelRunOf(create ?? "");
    if (run === undefined) return args.notApplicable("the command runs no unikernel (kraft run or qemu.sh start)");
    const who = describe("command.local.Command", args.name);
    const fix = `${run.memoryFix} so the unikernel runs under the budget the stack config states`;
    if (run.memory === undefined) {
      reportViolation(`${who} runs \`${run.tool}\` without ${run.memoryFlag}; ${fix}.`);
    } else if (!((run.memoryMi ?? 0) > 0)) {
      reportViolation(`${who} runs \`${run.tool}\` with memory "${run.memory}", which is not a size above 0 MiB; ${fix}.`);
    }
  }),
};
