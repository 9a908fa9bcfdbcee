import { StackValidationPolicy } from "@pulumi/policy";
import { addressesOverlap, hostClaims } from "../published";

/** Two services on one host port: the second fails to start, or worse, the bench measures the wrong one. */
export const uniqueHostPorts: StackValidationPolicy = {
  name: "unique-host-ports",
  description: "No two resources publish the same host port.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const seen: { label: string; ip?: string; hostPort: number; protocol: string }[] = [];
    for (const claim of hostClaims(args.resources)) {
      for (const port of claim.ports) {
        const owner = seen.find((s) => s.hostPort === port.hostPort && s.protocol === port.protocol && addressesOverlap(s.ip, port.ip));
        if (owner) {
          reportViolation(
            `${claim.label} publishes host port ${port.hostPort}/${port.protocol}, already published by ${owner.label}; ` +
              "give each service its own port in the stack config.",
            claim.resource.urn,
          );
        } else {
          seen.push({ label: claim.label, ...port });
        }
      }
    }
  },
};
