import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe, withDefaults } from "../config";
import { PUBLISHED_PORTS_EXEMPTION_LABEL } from "../../model/labels";
import { serviceLabel, servicePublishedPorts } from "../service";
import { isLoopback } from "../values";

export interface LoopbackPortsConfig {
  /** Non-loopback addresses a stack may publish on (a lab on a private network, for instance). */
  allowedBindAddresses: string[];
}
export const LOOPBACK_PORTS_DEFAULTS: LoopbackPortsConfig = { allowedBindAddresses: [] };

/** The lab's API and dashboards have no authentication worth the name: keep them off the network. */
/** The pack-config property both loopback rules read: extra addresses a port may bind to. */
export function allowedBindAddressesProperty(description: string) {
  return { type: "array" as const, items: { type: "string" as const }, default: LOOPBACK_PORTS_DEFAULTS.allowedBindAddresses, description };
}

export const portsBindLoopback: ResourceValidationPolicy = {
  name: "ports-bind-loopback",
  description:
    "Published container ports bind to a loopback address unless the pack config allows a wider one; a Swarm service " +
    `(which publishes on every address of its nodes) publishes only with the label ${PUBLISHED_PORTS_EXEMPTION_LABEL}=<reason>.`,
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedBindAddresses: allowedBindAddressesProperty("Extra addresses ports may bind to, e.g. a private LAN address."),
    },
  },
  validateResource: [validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    const { allowedBindAddresses } = withDefaults(args.getConfig, LOOPBACK_PORTS_DEFAULTS);
    for (const port of container.ports ?? []) {
      const ip = port.ip ?? "0.0.0.0";
      if (isLoopback(ip) || allowedBindAddresses.includes(ip)) continue;
      const published = port.external === undefined ? `container port ${port.internal}` : `host port ${port.external}`;
      reportViolation(
        `${describe("docker.Container", args.name)} publishes ${published} on ${ip}${port.ip === undefined ? " (Docker's default)" : ""}; ` +
          "set the port's `ip` to 127.0.0.1 (optivolt:bindAddress in the stack config), " +
          `or allow ${ip} in the pack config (ports-bind-loopback.allowedBindAddresses).`,
      );
    }
  }),
  validateResourceOfType(docker.Service, (service, args, reportViolation) => {
    const ports = servicePublishedPorts(service);
    if (ports.length === 0) return;
    const { allowedBindAddresses } = withDefaults(args.getConfig, LOOPBACK_PORTS_DEFAULTS);
    if (allowedBindAddresses.includes("0.0.0.0")) return;
    const reason = serviceLabel(service, PUBLISHED_PORTS_EXEMPTION_LABEL)?.trim() ?? "";
    if (reason.length >= MIN_REASON_LENGTH) return;
    const list = ports.map((p) => `${p.publishedPort} (${p.publishMode} mode)`).join(", ");
    reportViolation(
      `${describe("docker.Service", args.name)} publishes port ${list} on every address of its nodes (Swarm has no bind address) ` +
        `without saying why; set optivolt:swarm.publishedPortsReason (the label ${PUBLISHED_PORTS_EXEMPTION_LABEL}), ` +
        "publish nothing (optivolt:swarm.publishMode: none), or allow 0.0.0.0 in the pack config (ports-bind-loopback.allowedBindAddresses).",
    );
  })],
};

/** Shortest reason accepted in the published-ports exemption label. */
const MIN_REASON_LENGTH = 10;
