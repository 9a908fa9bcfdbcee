import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe } from "../config";
import { serviceLimits } from "../service";
import { positiveNumber } from "../values";

/** Without both limits a variant's numbers measure the host, not the budget under test. */
export const containerResourceLimits: ResourceValidationPolicy = {
  name: "container-resource-limits",
  description: "Every docker.Container and docker.Service sets a CPU limit and a memory limit greater than zero.",
  enforcementLevel: "mandatory",
  validateResource: [validateResourceOfType(docker.Container, (container, args, reportViolation) => {
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
  validateResourceOfType(docker.Service, (service, args, reportViolation) => {
    const { cpus, memoryMb } = serviceLimits(service);
    const missing = [
      ...(cpus === undefined ? ["no CPU limit (set `taskSpec.resources.limits.nanoCpus`, e.g. 500000000 for half a CPU)"] : []),
      ...(memoryMb === undefined ? ["no memory limit (set `taskSpec.resources.limits.memoryBytes`)"] : []),
    ];
    if (missing.length > 0) {
      reportViolation(
        `${describe("docker.Service", args.name)} has ${missing.join(" and ")}; ` +
          "take both from the stack config (and reservations equal) so its tasks cannot use CPU or memory beyond the budget the lab states.",
      );
    }
  })],
};
