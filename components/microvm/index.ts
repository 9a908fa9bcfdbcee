import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig, MicrovmSpec } from "../../model/config";
import { sourceForwards } from "../unikernel/network";
import { acceleratorFromStartOutput, initrdBuildCommand, initrdDeleteCommand } from "../unikernel/source";
import { initrdTags } from "../unikernel/sourceBuild";
import { UNIKERNEL_DIR } from "../unikernel/kraft";
import {
  diskBuildCommand,
  diskDeleteCommand,
  kernelBuildCommand,
  kernelDeleteCommand,
  MicrovmLayout,
  microvmLayout,
  microvmStartCommand,
  microvmStopCommand,
  MicrovmTriggers,
  microvmTriggers,
  payloadTrigger,
} from "./commands";

export * from "./commands";

/** A guest's `variants` entry, the same record for the micro-VM and the unikernel. */
export interface MicrovmVariantOutput {
  isolation: "microvm";
  cpus: number;
  memoryMb: number;
  runtime: "node";
  url: string;
  status: string;
  accel?: "kvm" | "tcg";
  pidFile: string;
}

export interface MicrovmArgs {
  spec: MicrovmSpec;
  images: ImagesConfig;
  stack: string;
  /** Address the first forward binds to; the URL names it (loopback when it is 0.0.0.0). */
  bindAddress: string;
  /** The lab network's gateway, forwarded too so Prometheus's container can scrape the guest. */
  gateway?: pulumi.Input<string>;
  /**
   * The step that builds the payload (the unikernel's initrd) when the unikernel has one; without
   * it this component makes that step itself, with the same command and file: one build either way.
   */
  payload?: command.local.Command;
  runDependsOn?: pulumi.Resource[];
  /** Project root, for the build-input hashes. */
  projectDir?: string;
}

/**
 * The web API in a Linux guest on QEMU's microvm machine: kernel (dpkg-deb) → disk (squashfs of
 * the unikernel's payload) → run (qemu.sh --guest linux, waited on /health), each a command
 * resource triggered by content hashes, run from the project root with relative paths.
 */
export class Microvm extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly variant: pulumi.Output<MicrovmVariantOutput>;
  public readonly layout: MicrovmLayout;
  public readonly triggers: MicrovmTriggers;
  public readonly kernel: command.local.Command;
  public readonly disk: command.local.Command;
  public readonly payload: command.local.Command;
  public readonly run: command.local.Command;

  constructor(name: string, args: MicrovmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("optivolt:lab:Microvm", name, {}, opts);
    const { spec } = args;
    const projectDir = args.projectDir ?? path.resolve(__dirname, "../..");
    this.layout = microvmLayout(args.stack, name);
    this.triggers = microvmTriggers(spec, args.images, projectDir);
    // Every step writes one fixed path: a replacement must remove the old one first; and any change is a
    // replacement (pulumi-command's Update would run the new create without the old delete).
    const replaceInPlace = { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["*"] };

    this.kernel = new command.local.Command(
      `${name}-kernel`,
      { create: kernelBuildCommand(spec, this.layout, this.triggers.kernel), delete: kernelDeleteCommand(this.layout), triggers: [this.triggers.kernel] },
      replaceInPlace,
    );
    this.payload = args.payload ?? this.ownPayload(name, args, projectDir);
    this.disk = new command.local.Command(
      `${name}-disk`,
      { create: diskBuildCommand(this.layout, this.triggers.disk), delete: diskDeleteCommand(this.layout), triggers: [this.triggers.disk] },
      { ...replaceInPlace, dependsOn: [this.kernel, this.payload] },
    );
    const forwards = pulumi.output(args.gateway).apply((gateway) => sourceForwards(args.bindAddress, spec.hostPort, gateway));
    this.run = new command.local.Command(
      `${name}-run`,
      {
        create: forwards.apply((list) => microvmStartCommand(spec, { layout: this.layout, forwards: list, variant: name })),
        delete: microvmStopCommand(this.layout),
        triggers: [this.triggers.run],
      },
      { ...replaceInPlace, dependsOn: [this.kernel, this.disk, ...(args.runDependsOn ?? [])] },
    );
    const host = args.bindAddress === "0.0.0.0" ? "127.0.0.1" : args.bindAddress;
    const url = `http://${host}:${spec.hostPort}`;
    this.url = this.run.stdout.apply(() => url);
    const accel = this.run.stdout.apply(acceleratorFromStartOutput);
    // Absolute, as the unikernel's: the bench reads it from wherever it runs.
    const pidFile = path.join(projectDir, this.layout.pidFile);
    this.variant = pulumi.all([this.url, accel]).apply(([u, a]) => ({
      isolation: "microvm" as const,
      cpus: spec.cpus,
      memoryMb: spec.memoryMb,
      runtime: "node" as const,
      url: u,
      status: a === "tcg" ? "running (TCG emulation)" : a === "kvm" ? "running (KVM)" : "running",
      ...(a === undefined ? {} : { accel: a }),
      pidFile,
    }));
    this.registerOutputs({ url: this.url, variant: this.variant });
  }

  /** The unikernel's initrd step, for a stack whose unikernel does not build one. */
  private ownPayload(name: string, args: MicrovmArgs, projectDir: string): command.local.Command {
    const trigger = payloadTrigger(args.images, projectDir);
    const tags = initrdTags(args.stack, trigger);
    // The initrd step runs in unikernel/, as the unikernel's own.
    const layout = { initrd: path.posix.join("..", this.layout.payload) };
    return new command.local.Command(
      `${name}-payload`,
      { dir: UNIKERNEL_DIR, create: initrdBuildCommand(args.images, tags, layout), delete: initrdDeleteCommand(tags, layout), triggers: [trigger] },
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["*"] },
    );
  }
}
