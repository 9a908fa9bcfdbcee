import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "../model/config";
import { webApiImageCleanup } from "./imageCleanup";
import { Monitoring } from "./monitoring";
import { STACK_LABEL } from "../model/labels";
import { dockerfileTarget, variantContainerName } from "../model/naming";
import { EngineFacts, isLocalEngine } from "./preflight";
import { deploySwarmLab } from "./swarm/swarmLab";
import { SwarmNode } from "./swarm/services";
import { unikernelScrapeTarget as gatewayScrapeTarget } from "../dashboards/prometheusConfig";
import { Microvm } from "./microvm";
import { labOutputs, LabOutputs, VariantOutput } from "./stackOutputs";
import { decideUnikernel, HostProbes, hostProbes, labNetworkGateway, Unikernel, UnikernelDecision, UNIKERNEL_VARIANT } from "./unikernel";
import { WebApiImage } from "./webApiImage";
import { WebApiVariant } from "./webApiVariant";

/** Options for the whole lab (e.g. a Docker provider for tests or a second engine). */
export type DeployLabOptions = Pick<pulumi.CustomResourceOptions, "provider"> & {
  /** What the unikernel asks of this machine (kraft on PATH, KVM); tests inject their own. */
  unikernelProbes?: HostProbes;
  /** The engine's platform and swap accounting, as the preflight read them; unknown under some tests. */
  engine?: EngineFacts;
  /** Where the plan's notes go; Pulumi's log unless a test collects them. */
  notify?: (level: "info" | "warn", message: string) => void;
  /** Swarm stacks: the nodes the preflight read from the manager (none in a preview). */
  swarmNodes?: readonly SwarmNode[];
};

/**
 * Says in the plan what the engine decided: the platform the images build for (`platform`, from
 * config or else the engine), and that memory is soft on an engine without swap accounting.
 */
function engineNotes(platform: string | undefined, config: LabConfig, engine: EngineFacts | undefined, notify: NonNullable<DeployLabOptions["notify"]>): void {
  if (platform !== undefined) {
    const source = config.images.platform === undefined ? "the engine's own" : `optivolt:images.platform; the engine runs ${engine?.platform ?? "an unknown platform"}`;
    notify("info", `The web API images build for ${platform} (${source}).`);
  }
  if (engine?.swapLimit === false) {
    notify(
      "warn",
      "The Docker engine has no swap accounting (`docker info` says SwapLimit false), so memorySwap is left unset: the containers " +
        "may swap beyond their memory budget, which is then soft. To make it hard, boot the host with swap accounting " +
        "(kernel parameter swapaccount=1 on cgroup v1) or turn swap off.",
    );
  }
}

/** One image per (target, runtime) in use, whatever number of budgets runs it; keyed by Dockerfile target. */
function webApiImages(config: LabConfig, platform: string | undefined, opts: DeployLabOptions): Map<string, WebApiImage> {
  const images = new Map<string, WebApiImage>();
  for (const spec of Object.values(config.variants)) {
    const target = dockerfileTarget(spec);
    if (images.has(target)) continue;
    const imageCleanup = webApiImageCleanup(target, config.stackName, config.dockerHost);
    images.set(
      target,
      new WebApiImage(
        `webapi-${target}`,
        { dockerfileTarget: target, images: config.images, imageCleanup, stackName: config.stackName, platform, dockerHost: config.dockerHost },
        { providers: opts.provider ? [opts.provider] : undefined },
      ),
    );
  }
  return images;
}

/** The unikernel variant, scraped on the lab network's gateway when QEMU and the engine share this machine. */
function deployUnikernel(config: LabConfig, decision: UnikernelDecision, network: docker.Network, gateway: pulumi.Output<string>, notify: NonNullable<DeployLabOptions["notify"]>): Unikernel {
  const scraped = decision.deploy && decision.builder === "source" && config.monitoring.enabled;
  const reachable = isLocalEngine(config.dockerHost);
  if (scraped && !reachable) {
    notify("warn", `Prometheus does not scrape the unikernel: QEMU runs on this machine and the lab's engine (docker:host ${config.dockerHost}) on another.`);
  }
  return new Unikernel(UNIKERNEL_VARIANT, {
    config: config.unikernel,
    images: config.images,
    instanceName: variantContainerName(config, UNIKERNEL_VARIANT),
    bindAddress: config.bindAddress,
    decision,
    gateway: scraped && reachable ? gateway : undefined,
    runDependsOn: [network],
  });
}

/**
 * Creates the micro-VM variants, adding each one's URL and output record; returns their scrape
 * targets (the lab network's gateway forward, when Prometheus runs on this machine's engine).
 */
function deployMicrovms(
  config: LabConfig,
  network: docker.Network,
  gateway: pulumi.Output<string>,
  unikernelPayload: Microvm["payload"] | undefined,
  endpoints: Record<string, pulumi.Input<string>>,
  variants: Record<string, pulumi.Input<VariantOutput>>,
): Record<string, pulumi.Output<string>> {
  const scrapeTargets: Record<string, pulumi.Output<string>> = {};
  let payload = unikernelPayload;
  for (const [name, spec] of Object.entries(config.microvms)) {
    const scraped = config.monitoring.enabled && isLocalEngine(config.dockerHost);
    const microvm = new Microvm(name, {
      spec,
      images: config.images,
      stack: config.stackName,
      bindAddress: config.bindAddress,
      gateway: scraped ? gateway : undefined,
      // One payload step for every guest: the unikernel's, or the first micro-VM's.
      payload,
      runDependsOn: [network],
    });
    payload = microvm.payload;
    endpoints[name] = microvm.url;
    variants[name] = microvm.variant;
    if (scraped) scrapeTargets[name] = gateway.apply((address) => gatewayScrapeTarget(address, spec.hostPort));
  }
  return scrapeTargets;
}

/** Creates every resource of the lab from validated config and returns the stack outputs. */
export function deployLab(config: LabConfig, opts: DeployLabOptions = {}): LabOutputs {
  if (config.engine === "swarm") return deploySwarmLab(config, opts);
  // Decided first: a unikernel that cannot run here must stop the program before anything is created.
  const unikernelDecision =
    config.unikernel.enabled === false ? undefined : decideUnikernel(config.unikernel, opts.unikernelProbes ?? hostProbes);
  const platform = config.images.platform ?? opts.engine?.platform;
  // Unknown (no preflight ran) counts as able: swap equal to memory is then what the engine reads back.
  const swapLimit = opts.engine?.swapLimit !== false;
  const notify = opts.notify ?? ((level, message) => pulumi.log[level](message));
  engineNotes(platform, config, opts.engine, notify);
  const network = new docker.Network(
    "lab",
    {
      name: config.networkName,
      driver: "bridge",
      labels: [{ label: STACK_LABEL, value: config.stackName }],
    },
    { provider: opts.provider },
  );

  const endpoints: Record<string, pulumi.Input<string>> = {};
  const variants: Record<string, pulumi.Input<VariantOutput>> = {};

  const images = webApiImages(config, platform, opts);

  for (const [name, spec] of Object.entries(config.variants)) {
    const variant = new WebApiVariant(
      name,
      {
        spec,
        image: images.get(dockerfileTarget(spec))!,
        network,
        bindAddress: config.bindAddress,
        endpointHost: config.endpointHost,
        containerName: variantContainerName(config, name),
        stackName: config.stackName,
        swapLimit,
      },
      { providers: opts.provider ? [opts.provider] : undefined },
    );
    endpoints[name] = variant.url;
    variants[name] = pulumi.output({ cpus: spec.cpus, memoryMb: spec.memoryMb, runtime: spec.runtime, url: variant.url });
  }

  // QEMU runs on this machine: the lab network's gateway is one of its addresses only when the engine is local too.
  const gateway = network.ipamConfigs.apply((ipam) => labNetworkGateway(ipam, config.networkName));
  const unikernel = unikernelDecision === undefined ? undefined : deployUnikernel(config, unikernelDecision, network, gateway, notify);
  if (unikernel !== undefined) {
    // `endpoints` holds URLs only: a unikernel that does not run keeps its reason in `variants` alone.
    if (unikernel.url !== undefined) endpoints[UNIKERNEL_VARIANT] = unikernel.url;
    variants[UNIKERNEL_VARIANT] = unikernel.variant.apply((variant) => ({ isolation: "unikernel" as const, ...variant }));
  }

  const microvmScrapeTargets = deployMicrovms(config, network, gateway, unikernel?.payload, endpoints, variants);

  // Prometheus finds the variants by container name on the lab network, and the unikernel on its
  // gateway, so it needs no dependency on them.
  const monitoring = config.monitoring.enabled
    ? new Monitoring(
        "monitoring",
        { config, network, bindAddress: config.bindAddress, endpointHost: config.endpointHost, swapLimit, unikernelScrapeTarget: unikernel?.scrapeTarget, microvmScrapeTargets },
        { providers: opts.provider ? [opts.provider] : undefined },
      )
    : undefined;
  return labOutputs(endpoints, variants, monitoring);
}
