import * as command from "@pulumi/command";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe } from "../config";
import { memoryMiB, parseKraftRun } from "../kraft";

/** kraft's default memory is whatever its version picks; the unikernel's budget must be the one configured. */
export const unikernelMemorySet: ResourceValidationPolicy = {
  name: "unikernel-memory-set",
  description: "The unikernel's `kraft run` command sets its memory explicitly with -M/--memory.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(command.local.Command, (cmd, args, reportViolation) => {
    const run = parseKraftRun(cmd.create ?? "");
    if (run === undefined) return args.notApplicable("the command does not run kraft");
    const who = describe("command.local.Command", args.name);
    const fix = "pass `-M <optivolt:unikernel.memoryMi>Mi` so the unikernel runs under the budget the stack config states";
    if (run.memory === undefined) {
      reportViolation(`${who} runs \`kraft run\` without -M/--memory; ${fix}.`);
    } else if (!((memoryMiB(run.memory) ?? 0) > 0)) {
      reportViolation(`${who} runs \`kraft run\` with an unreadable memory size "${run.memory}"; ${fix}.`);
    }
  }),
};
