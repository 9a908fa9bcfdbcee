import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe, withDefaults } from "../config";
import { containerSpecOf, serviceLabel } from "../service";
import { PRIVILEGED_EXEMPTION_LABEL } from "../../model/labels";
import { labelValue } from "../values";

export interface PrivilegedConfig {
  /** Shortest reason accepted in the exemption label. */
  minReasonLength: number;
}
export const PRIVILEGED_DEFAULTS: PrivilegedConfig = { minReasonLength: 10 };

export const noUnexemptedPrivileged: ResourceValidationPolicy = {
  name: "no-privileged-without-exemption",
  description:
    `No privileged container, and no Swarm service adding capabilities or mounting the Docker socket, ` +
    `unless it carries the label ${PRIVILEGED_EXEMPTION_LABEL}=<reason>.`,
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minReasonLength: { type: "integer", minimum: 1, default: PRIVILEGED_DEFAULTS.minReasonLength, description: "Shortest reason accepted in the exemption label." },
    },
  },
  validateResource: [validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    if (container.privileged !== true) return;
    const { minReasonLength } = withDefaults(args.getConfig, PRIVILEGED_DEFAULTS);
    const reason = labelValue(container.labels, PRIVILEGED_EXEMPTION_LABEL)?.trim() ?? "";
    if (reason.length >= minReasonLength) return;
    const who = describe("docker.Container", args.name);
    const problem = reason === "" ? "has no exemption label" : `gives too short a reason ("${reason}", fewer than ${minReasonLength} characters)`;
    reportViolation(
      `${who} is privileged and ${problem}; drop \`privileged\` or add the label ` +
        `{ label: "${PRIVILEGED_EXEMPTION_LABEL}", value: "<why it needs the host>" }.`,
    );
  }),
  validateResourceOfType(docker.Service, (service, args, reportViolation) => {
    // Swarm has no `privileged`: what gives a task the host is extra capabilities or the engine's socket.
    const spec = containerSpecOf(service);
    const grants = [
      ...(spec?.capAdds?.length ? [`adds capabilities (${spec.capAdds.join(", ")})`] : []),
      ...(spec?.mounts ?? [])
        .filter((mount) => mount.type === "bind" && DOCKER_SOCKET_PATHS.includes(mount.source ?? ""))
        .map((mount) => `mounts the Docker socket (${mount.source})`),
    ];
    if (grants.length === 0) return;
    const { minReasonLength } = withDefaults(args.getConfig, PRIVILEGED_DEFAULTS);
    const reason = serviceLabel(service, PRIVILEGED_EXEMPTION_LABEL)?.trim() ?? "";
    if (reason.length >= minReasonLength) return;
    reportViolation(
      `${describe("docker.Service", args.name)} ${grants.join(" and ")}, which gives its tasks the host, without a reason; ` +
        `drop them or add the label { label: "${PRIVILEGED_EXEMPTION_LABEL}", value: "<why it needs the host>" }.`,
    );
  })],
};

/** Bind sources that hand a task the Docker engine (the socket itself, or the directory holding it). */
const DOCKER_SOCKET_PATHS = ["/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run"];
