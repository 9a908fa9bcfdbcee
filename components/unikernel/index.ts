import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { unikernelScrapeTarget } from "../../dashboards/prometheusConfig";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { UNIKERNEL_VARIANT } from "../../model/naming";
import { Accelerator, UnikernelVariantOutput } from "../stackOutputs";
import { UnikernelDecision } from "./decision";
import { kraftSteps } from "./kraft";
import { KRAFT_MEMORY_ESTIMATE_MI } from "./memory";
import { acceleratorFromStartOutput } from "./source";
import { sourceSteps } from "./sourceBuild";

export * from "./decision";
export * from "./kraft";
export * from "./memory";
export * from "./network";
export * from "../../tooling/hostProbes";
export { shellQuote } from "./shell";

export { UNIKERNEL_VARIANT } from "../../model/naming";
/** Unikraft's ELF loader runs the app on one vCPU, and `kraft run` has no CPU flag. */
export const UNIKERNEL_VCPUS = 1;

export interface UnikernelArgs {
  config: UnikernelConfig;
  images: ImagesConfig;
  /** Name of the kraft instance. */
  instanceName: string;
  /** Address the forwarded port binds to; the URL names it (loopback when it is 0.0.0.0). */
  bindAddress: string;
  /** Whether and how to deploy, from `decideUnikernel`, taken before any resource of the lab exists. */
  decision: UnikernelDecision;
  /** Source builder: the lab network's gateway, also forwarded so Prometheus can scrape the guest. */
  gateway?: pulumi.Input<string>;
  /** Source builder: what QEMU needs up first (the network whose gateway it binds). */
  runDependsOn?: pulumi.Resource[];
  /** Where the one "skipped" warning goes; `pulumi.log.warn` unless a test injects another. */
  warn?: (message: string) => void;
  /** Project root (for the build-input hashes and the source builder's paths); defaults to this repository. */
  projectDir?: string;
}

/** `running (TCG emulation)`: the status says when the guest is emulated, since that is what its numbers measure. */
function runningStatus(accel: Accelerator | undefined): string {
  return accel === "tcg" ? "running (TCG emulation)" : accel === "kvm" ? "running (KVM)" : "running";
}

/**
 * The Unikraft variant of the web API, built and run through command resources by kraft
 * (kraft.ts) or from source with make and QEMU (sourceBuild.ts). Without a usable builder and
 * `enabled: auto` it creates nothing and says why in `status`.
 */
export class Unikernel extends pulumi.ComponentResource {
  /** `running…`, `disabled` or `skipped: …`. */
  public readonly status: pulumi.Output<string>;
  /** Set only when the instance is deployed. */
  public readonly url: pulumi.Output<string> | undefined;
  public readonly memoryMi: number;
  public readonly cpus = UNIKERNEL_VCPUS;
  /** kraft builder: hash of the build inputs, every step's trigger. */
  public readonly sourceHash: string | undefined;
  /** Source builder with a gateway: `host:port` Prometheus scrapes. */
  public readonly scrapeTarget: pulumi.Output<string> | undefined;
  /** Its `variants` entry: budget, and the URL or the reason there is none. */
  public readonly variant: pulumi.Output<UnikernelVariantOutput>;
  /** Source builder: the initrd step, whose payload the micro-VM's disk is made from too. */
  public readonly payload: command.local.Command | undefined;

  constructor(name: string, args: UnikernelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:Unikernel", name, {}, opts);
    const { config, decision } = args;
    this.memoryMi = config.memoryMi;
    const budget = { cpus: this.cpus, memoryMb: this.memoryMi, runtime: "node" as const };

    if (!decision.deploy) {
      if (decision.warning !== undefined) (args.warn ?? ((message: string) => pulumi.log.warn(message, this)))(decision.warning);
      this.status = pulumi.output(decision.status);
      this.url = undefined;
      this.sourceHash = undefined;
      this.scrapeTarget = undefined;
      this.payload = undefined;
      this.variant = pulumi.output({ ...budget, status: decision.status });
      this.registerOutputs({ status: this.status });
      return;
    }

    const projectDir = args.projectDir ?? path.resolve(__dirname, "../..");
    // Both builders run the VM on this machine whatever docker:host says, so the URL names this machine.
    const host = args.bindAddress === "0.0.0.0" ? "127.0.0.1" : args.bindAddress;
    if (decision.builder === "kraft") {
      if (config.memoryMi < KRAFT_MEMORY_ESTIMATE_MI) {
        (args.warn ?? ((message: string) => pulumi.log.warn(message, this)))(
          `optivolt:unikernel.memoryMi is ${config.memoryMi} MiB; kraft's root file system is estimated to need ${KRAFT_MEMORY_ESTIMATE_MI} MiB (docs/unikernel.md): set memoryMi to ${KRAFT_MEMORY_ESTIMATE_MI} if the guest does not start.`,
        );
      }
      const steps = kraftSteps(name, { ...args, emulation: decision.emulation, projectDir }, this);
      const accel: Accelerator = decision.emulation ? "tcg" : "kvm";
      this.sourceHash = steps.sourceHash;
      this.scrapeTarget = undefined;
      this.payload = undefined;
      this.url = steps.run.stdout.apply(() => steps.url);
      this.status = steps.run.stdout.apply(() => "running");
      this.variant = pulumi.all([this.url, this.status]).apply(([url, status]) => ({ ...budget, url, status, builder: "kraft" as const, accel }));
    } else {
      const steps = sourceSteps(
        name,
        { ...args, variant: UNIKERNEL_VARIANT, projectDir, stack: pulumi.getStack() },
        this,
      );
      const url = `http://${host}:${config.hostPort}`;
      const accel = steps.run.stdout.apply(acceleratorFromStartOutput);
      this.sourceHash = undefined;
      this.payload = steps.initrd;
      this.scrapeTarget = args.gateway === undefined ? undefined : pulumi.output(args.gateway).apply((gateway) => unikernelScrapeTarget(gateway, config.hostPort));
      this.url = steps.run.stdout.apply(() => url);
      this.status = accel.apply(runningStatus);
      const { pidFile } = steps.layout;
      this.variant = pulumi.all([this.url, this.status, accel]).apply(([u, status, a]) => ({
        ...budget,
        url: u,
        status,
        builder: "source" as const,
        ...(a === undefined ? {} : { accel: a }),
        pidFile,
      }));
    }
    this.registerOutputs({ status: this.status, url: this.url });
  }
}
