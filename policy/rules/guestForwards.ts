import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { StackValidationPolicy } from "@pulumi/policy";
import { withDefaults } from "../config";
import { hostClaims } from "../published";
import { isLoopback, known, UNKNOWN } from "../values";
import { allowedBindAddressesProperty, LOOPBACK_PORTS_DEFAULTS } from "./loopbackPorts";

/** IPv4 gateways of the stack's own Docker networks, as the provider reports them. */
function labGateways(resources: Parameters<StackValidationPolicy["validateStack"]>[0]["resources"]): Set<string> {
  const gateways = new Set<string>();
  for (const resource of resources) {
    if (!resource.isType(docker.Network)) continue;
    const ipam = known(() => resource.props.ipamConfigs as { gateway?: string }[] | undefined);
    if (ipam === UNKNOWN) continue;
    for (const entry of ipam ?? []) if (entry.gateway !== undefined) gateways.add(entry.gateway);
  }
  return gateways;
}

/**
 * The ports-bind-loopback rule for what is not a container: every port a guest's run command (the
 * unikernel's, a micro-VM's) forwards to its guest (`qemu.sh start --forward ADDRESS:PORT`, `kraft run -p`). A forward on the
 * gateway of the stack's own Docker network is the lab's scrape path: it is answered on the host's
 * address on that bridge (docs/unikernel.md says exactly who reaches it); anything else must be
 * loopback or allowed in the pack config.
 */
export const guestForwardsBindLoopback: StackValidationPolicy = {
  name: "guest-forwards-bind-loopback",
  description:
    "Ports a guest's run command (unikernel, micro-VM) forwards to its guest (qemu.sh --forward, kraft run -p) bind to loopback, the gateway of the stack's own Docker network, " +
    "or an address its allowedBindAddresses allows.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowedBindAddresses: allowedBindAddressesProperty("Extra addresses a guest forward may bind to (as ports-bind-loopback's)."),
    },
  },
  validateStack: (args, reportViolation) => {
    const { allowedBindAddresses } = withDefaults(args.getConfig, LOOPBACK_PORTS_DEFAULTS);
    const gateways = labGateways(args.resources);
    for (const claim of hostClaims(args.resources)) {
      if (!claim.resource.isType(command.local.Command)) continue;
      for (const port of claim.ports) {
        const ip = port.ip ?? "0.0.0.0";
        if (isLoopback(ip) || gateways.has(ip) || allowedBindAddresses.includes(ip)) continue;
        reportViolation(
          `${claim.label} forwards host port ${port.hostPort} to its QEMU guest on ${ip}, which is neither loopback nor the lab network's gateway; ` +
            "set optivolt:bindAddress to 127.0.0.1, or allow the address in the pack config (guest-forwards-bind-loopback.allowedBindAddresses).",
          claim.resource.urn,
        );
      }
    }
  },
};
