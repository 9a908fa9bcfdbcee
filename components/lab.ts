import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig, Runtime } from "./config";
import { webApiImageCleanup } from "./imageCleanup";
import { Monitoring, MonitoringOutputs } from "./monitoring";
import { dockerfileTarget, variantContainerName } from "./naming";
import { deploySwarmLab } from "./swarm/deploy";
import { NodesOutput, SwarmNode } from "./swarm/lab";
import { decideUnikernel, HostProbes, hostProbes, Unikernel, UNIKERNEL_VARIANT } from "./unikernel";
import { WebApiImage } from "./webApiImage";
import { WebApiVariant } from "./webApiVariant";

/** What the stack exports for one variant (DESIGN.md: `variants`). */
export interface VariantOutput {
  cpus: number;
  memoryMb: number;
  /** The runtime serving the routes (`node`, `bun`); absent for the unikernel. */
  runtime?: Runtime;
  /** Absent when the variant does not run (the unikernel without kraft). */
  url?: string;
  /** The unikernel's `running`, or why it does not run (`skipped: kraft not found`). */
  status?: string;
}

/** The stack outputs (DESIGN.md "Stack outputs"); the monitoring ones only when monitoring is enabled. */
export interface LabOutputs extends Partial<MonitoringOutputs> {
  /** variant → URL, for the variants that run (anything may fetch every entry) */
  endpoints: pulumi.Output<Record<string, string>>;
  /** variant → budget and URL */
  variants: pulumi.Output<Record<string, VariantOutput>>;
  /** Swarm stacks: node hostname → role and labels, as the manager reported them at `pulumi up`. */
  nodes?: pulumi.Output<NodesOutput>;
}

/** Options for the whole lab (e.g. a Docker provider for tests or a second engine). */
export type DeployLabOptions = Pick<pulumi.CustomResourceOptions, "provider"> & {
  /** What the unikernel asks of this machine (kraft on PATH, KVM); tests inject their own. */
  unikernelProbes?: HostProbes;
  /** Swarm stacks: the nodes the preflight read from the manager (none in a preview). */
  swarmNodes?: readonly SwarmNode[];
};

/** Creates every resource of the lab from validated config and returns the stack outputs. */
export function deployLab(config: LabConfig, opts: DeployLabOptions = {}): LabOutputs {
  if (config.engine === "swarm") return deploySwarmLab(config, opts);
  // Decided first: a unikernel that cannot run here must stop the program before anything is created.
  const unikernelDecision =
    config.unikernel.enabled === false ? undefined : decideUnikernel(config.unikernel, opts.unikernelProbes ?? hostProbes);
  const network = new docker.Network(
    "lab",
    {
      name: config.networkName,
      driver: "bridge",
      labels: [{ label: "optivolt.stack", value: config.stackName }],
    },
    { provider: opts.provider },
  );

  const endpoints: Record<string, pulumi.Input<string>> = {};
  const variants: Record<string, pulumi.Input<VariantOutput>> = {};

  // One image per (target, runtime) in use, whatever number of budgets runs it.
  const images = new Map<string, WebApiImage>();
  for (const spec of Object.values(config.variants)) {
    const target = dockerfileTarget(spec);
    if (images.has(target)) continue;
    const imageCleanup = webApiImageCleanup(target, config.stackName, config.dockerHost);
    images.set(target, new WebApiImage(`webapi-${target}`, { dockerfileTarget: target, images: config.images, imageCleanup, stackName: config.stackName }, { providers: opts.provider ? [opts.provider] : undefined }));
  }

  for (const [name, spec] of Object.entries(config.variants)) {
    const variant = new WebApiVariant(
      name,
      {
        spec,
        imageId: images.get(dockerfileTarget(spec))!.id,
        network,
        bindAddress: config.bindAddress,
        endpointHost: config.endpointHost,
        containerName: variantContainerName(config, name),
        stackName: config.stackName,
      },
      { providers: opts.provider ? [opts.provider] : undefined },
    );
    endpoints[name] = variant.url;
    variants[name] = pulumi.output({ cpus: spec.cpus, memoryMb: spec.memoryMb, runtime: spec.runtime, url: variant.url });
  }

  if (unikernelDecision !== undefined) {
    const unikernel = new Unikernel(UNIKERNEL_VARIANT, {
      config: config.unikernel,
      images: config.images,
      instanceName: variantContainerName(config, UNIKERNEL_VARIANT),
      bindAddress: config.bindAddress,
      decision: unikernelDecision,
    });
    // `endpoints` holds URLs only: a unikernel that does not run keeps its reason in `variants` alone.
    if (unikernel.url !== undefined) endpoints[UNIKERNEL_VARIANT] = unikernel.url;
    variants[UNIKERNEL_VARIANT] = unikernel.variant;
  }

  // Prometheus finds the variants by container name on the lab network, so it needs no dependency on them.
  const monitoring = config.monitoring.enabled
    ? new Monitoring(
        "monitoring",
        { config, network, bindAddress: config.bindAddress, endpointHost: config.endpointHost },
        { providers: opts.provider ? [opts.provider] : undefined },
      )
    : undefined;

  return {
    endpoints: pulumi.output(endpoints),
    variants: pulumi.output(variants),
    ...monitoring?.outputs(),
  };
}
