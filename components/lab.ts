import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig, Runtime } from "./config";
import { webApiImageCleanup } from "./imageCleanup";
import { Monitoring, MonitoringOutputs } from "./monitoring";
import { dockerfileTarget, STACK_LABEL, variantContainerName } from "./naming";
import { EngineFacts, isLocalEngine } from "./preflight";
import { deploySwarmLab } from "./swarm/deploy";
import { NodesOutput, SwarmNode } from "./swarm/lab";
import { decideUnikernel, HostProbes, hostProbes, labNetworkGateway, Unikernel, UNIKERNEL_VARIANT, UnikernelVariantOutput } from "./unikernel";
import { unikernelScrapeTarget as gatewayScrapeTarget } from "../dashboards/prometheusConfig";
import { Microvm } from "./microvm";
import { WebApiImage } from "./webApiImage";
import { WebApiVariant } from "./webApiVariant";

/** What the stack exports for one variant (DESIGN.md: `variants`). */
export interface VariantOutput {
  /** The guests' isolation (`microvm`, `unikernel`), the same record for both; containers leave it out. */
  isolation?: "microvm" | "unikernel";
  cpus: number;
  memoryMb: number;
  /** The runtime serving the routes (`node`, `bun`). */
  runtime?: Runtime;
  /** Absent when the variant does not run (the unikernel without a builder). */
  url?: string;
  /** The unikernel's `running…`, or why it does not run (`skipped: no kraft, no qemu-system-x86_64`). */
  status?: string;
  /** The unikernel's builder, accelerator and QEMU pid file (UnikernelVariantOutput). */
  builder?: UnikernelVariantOutput["builder"];
  /** The guests' acceleration (the bench marks `tcg` runs as emulated). */
  accel?: UnikernelVariantOutput["accel"];
  pidFile?: string;
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

  // One image per (target, runtime) in use, whatever number of budgets runs it.
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

  let unikernelScrapeTarget: pulumi.Output<string> | undefined;
  // QEMU runs on this machine: the lab network's gateway is one of its addresses only when the engine is local too.
  const gateway = network.ipamConfigs.apply((ipam) => labNetworkGateway(ipam, config.networkName));
  let payload: Microvm["payload"] | undefined;
  if (unikernelDecision !== undefined) {
    // QEMU runs on this machine: the lab network's gateway is one of its addresses only when the engine is local too.
    const scraped = unikernelDecision.deploy && unikernelDecision.builder === "source" && config.monitoring.enabled;
    const reachable = isLocalEngine(config.dockerHost);
    if (scraped && !reachable) {
      notify("warn", `Prometheus does not scrape the unikernel: QEMU runs on this machine and the lab's engine (docker:host ${config.dockerHost}) on another.`);
    }
    const unikernel = new Unikernel(UNIKERNEL_VARIANT, {
      config: config.unikernel,
      images: config.images,
      instanceName: variantContainerName(config, UNIKERNEL_VARIANT),
      bindAddress: config.bindAddress,
      decision: unikernelDecision,
      gateway: scraped && reachable ? gateway : undefined,
      runDependsOn: [network],
    });
    payload = unikernel.payload;
    // `endpoints` holds URLs only: a unikernel that does not run keeps its reason in `variants` alone.
    if (unikernel.url !== undefined) endpoints[UNIKERNEL_VARIANT] = unikernel.url;
    variants[UNIKERNEL_VARIANT] = unikernel.variant.apply((variant) => ({ isolation: "unikernel" as const, ...variant }));
    unikernelScrapeTarget = unikernel.scrapeTarget;
  }

  const microvmScrapeTargets: Record<string, pulumi.Output<string>> = {};
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
    if (scraped) microvmScrapeTargets[name] = gateway.apply((address) => gatewayScrapeTarget(address, spec.hostPort));
  }

  // Prometheus finds the variants by container name on the lab network, and the unikernel on its
  // gateway, so it needs no dependency on them.
  const monitoring = config.monitoring.enabled
    ? new Monitoring(
        "monitoring",
        { config, network, bindAddress: config.bindAddress, endpointHost: config.endpointHost, swapLimit, unikernelScrapeTarget, microvmScrapeTargets },
        { providers: opts.provider ? [opts.provider] : undefined },
      )
    : undefined;

  return {
    endpoints: pulumi.output(endpoints),
    variants: pulumi.output(variants),
    ...monitoring?.outputs(),
  };
}
