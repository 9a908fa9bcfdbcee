import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe } from "../config";
import { positiveNumber } from "../values";

/** Without both limits a variant's numbers measure the host, not the budget under test. */
export const containerResourceLimits: ResourceValidationPolicy = {
  name: "container-resource-limits",
  description: "Every docker.Container sets a CPU limit and a memory limit greater than zero.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    const missing: string[] = [];
    if (positiveNumber(container.cpus) === undefined && positiveNumber(container.cpuQuota) === undefined) {
      missing.push("no CPU limit (set `cpus`, e.g. \"0.5\")");
    }
    if (positiveNumber(container.memory) === undefined) {
      missing.push("no memory limit (set `memory`, in MB)");
    }
    if (missing.length > 0) {
      reportViolation(
        `${describe("docker.Container", args.name)} has ${missing.join(" and ")}; ` +
          "take both from the stack config so it cannot use CPU or memory beyond the budget the lab states.",
      );
    }
  }),
};
