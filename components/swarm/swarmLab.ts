import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../../model/config";
import { EngineFacts } from "../preflight";
import { labOutputs, LabOutputs, VariantOutput } from "../stackOutputs";
import { deploySwarmServices, nodesOutput, SwarmNode } from "./services";
import { SwarmMonitoring } from "./monitoring";

/** What the swarm lab takes of the options of the whole lab (components/lab.ts `DeployLabOptions`). */
export type SwarmLabOptions = Pick<pulumi.CustomResourceOptions, "provider"> & {
  /** The manager engine's platform, as the preflight read it. */
  engine?: Pick<EngineFacts, "platform">;
  /** The nodes the preflight read from the manager (none in a preview). */
  swarmNodes?: readonly SwarmNode[];
};

/** A swarm stack: the services, the monitoring services, and the outputs of a docker stack plus `nodes`. */
export function deploySwarmLab(config: LabConfig, opts: SwarmLabOptions = {}): LabOutputs {
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
    ...labOutputs(endpoints, variants, monitoring),
    // Read from the manager by the preflight of `pulumi up`; a preview does not ask the engine.
    nodes: pulumi.output(nodesOutput(opts.swarmNodes ?? [])),
  };
}
