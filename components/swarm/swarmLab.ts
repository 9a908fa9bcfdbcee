import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../../model/config";
import type { DeployLabOptions, LabOutputs, VariantOutput } from "../lab";
import { deploySwarmServices, nodesOutput } from "./services";
import { SwarmMonitoring } from "./monitoring";

/** A swarm stack: the services, the monitoring services, and the outputs of a docker stack plus `nodes`. */
export function deploySwarmLab(config: LabConfig, opts: DeployLabOptions = {}): LabOutputs {
  // The manager's platform, as for a docker stack: the nodes run what the manager's engine builds.
  const lab = deploySwarmServices(config, { provider: opts.provider, platform: config.images.platform ?? opts.engine?.platform });
  const endpoints: Record<string, pulumi.Input<string>> = {};
  const variants: Record<string, pulumi.Input<VariantOutput>> = {};
  for (const [name, service] of Object.entries(lab.services)) {
    const spec = config.variants[name];
    endpoints[name] = service.url;
    variants[name] = pulumi.output({ cpus: spec.cpus, memoryMb: spec.memoryMb, url: service.url });
  }
  const monitoring = config.monitoring.enabled
    ? new SwarmMonitoring(
        "monitoring",
        { config, network: lab.network, endpointHost: config.endpointHost },
        { providers: opts.provider ? [opts.provider] : undefined },
      )
    : undefined;
  return {
    endpoints: pulumi.output(endpoints),
    variants: pulumi.output(variants),
    ...monitoring?.outputs,
    // Read from the manager by the preflight of `pulumi up`; a preview does not ask the engine.
    nodes: pulumi.output(nodesOutput(opts.swarmNodes ?? [])),
  };
}
