import { createHash } from "crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hashBuildInputs } from "../../unikernel/build-inputs";
import { ImagesConfig, UnikernelConfig } from "../config";
import { UNIKERNEL_DIR } from "./kraft";
import { sourceForwards } from "./network";
import {
  INITRD_BUILD_INPUTS,
  InitrdTags,
  initrdBuildCommand,
  initrdDeleteCommand,
  KERNEL_BUILD_INPUTS,
  kernelBuildCommand,
  kernelDeleteCommand,
  qemuStartCommand,
  qemuStopCommand,
  RUN_INPUTS,
  SourceLayout,
  sourceLayout,
} from "./source";

/** SHA-256 over the parts, NUL-separated so that no two different lists hash alike. */
function hashOf(parts: readonly string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex");
}

/** What each step is made from; a step re-runs exactly when its hash changes. */
export interface SourceTriggers {
  /** The defconfig and build script, and the archive locations as the stack file writes them. */
  kernel: string;
  /** The web API's sources and recipes, and the Debian image whose nodejs goes in. */
  initrd: string;
  /** qemu.sh and the health probe. */
  run: string;
}

export function sourceTriggers(config: Pick<UnikernelConfig, "source">, images: Pick<ImagesConfig, "nodeImage">, projectDir: string): SourceTriggers {
  // Locations as written, not resolved: the same stack file gives the same kernel on every checkout.
  const archives = Object.entries(config.source.archives).map(([key, location]) => `${key}=${location}`);
  return {
    kernel: hashOf([hashBuildInputs(projectDir, KERNEL_BUILD_INPUTS), ...archives]),
    initrd: hashOf([hashBuildInputs(projectDir, INITRD_BUILD_INPUTS), images.nodeImage]),
    run: hashBuildInputs(projectDir, RUN_INPUTS),
  };
}

/** The initrd's images, named with the stack so two stacks on one engine never remove each other's. */
export function initrdTags(stack: string, initrdTrigger: string): InitrdTags {
  const repository = `optivolt-unikernel-${stack.toLowerCase()}`;
  const tag = initrdTrigger.slice(0, 12);
  return { appTag: `${repository}-app:${tag}`, payloadTag: `${repository}-initrd:${tag}` };
}

export interface SourceStepsArgs {
  config: UnikernelConfig;
  images: ImagesConfig;
  /** Name the app reports in VARIANT. */
  variant: string;
  /** Address the first forward binds to. */
  bindAddress: string;
  /** The lab network's gateway, forwarded too so Prometheus's container can scrape the guest. */
  gateway?: pulumi.Input<string>;
  projectDir: string;
  stack: string;
  /** What the run needs besides the builds (the network whose gateway QEMU binds). */
  runDependsOn?: pulumi.Resource[];
}

export interface SourceSteps {
  kernel: command.local.Command;
  initrd: command.local.Command;
  run: command.local.Command;
  layout: SourceLayout;
  triggers: SourceTriggers;
}

/**
 * kernel (make) → initrd (docker) → run (QEMU, waited on /health), parented to `parent`. The two
 * builds run one after the other: each takes every core it gets.
 */
export function sourceSteps(name: string, args: SourceStepsArgs, parent: pulumi.Resource): SourceSteps {
  const { config } = args;
  const layout = sourceLayout(args.projectDir, args.stack);
  const triggers = sourceTriggers(config, args.images, args.projectDir);
  const tags = initrdTags(args.stack, triggers.initrd);
  // Every step writes one fixed path (kernel folder, initrd file, run folder and ports): a
  // replacement must remove the old one first, or the old one's delete would wipe the new one.
  const replaceInPlace = { parent, deleteBeforeReplace: true };

  const kernel = new command.local.Command(
    `${name}-kernel`,
    { dir: UNIKERNEL_DIR, create: kernelBuildCommand(config.source, layout, args.projectDir), delete: kernelDeleteCommand(layout), triggers: [triggers.kernel] },
    replaceInPlace,
  );
  const initrd = new command.local.Command(
    `${name}-initrd`,
    { dir: UNIKERNEL_DIR, create: initrdBuildCommand(args.images, tags, layout), delete: initrdDeleteCommand(tags, layout), triggers: [triggers.initrd] },
    { ...replaceInPlace, dependsOn: [kernel] },
  );
  const forwards = pulumi.output(args.gateway).apply((gateway) => sourceForwards(args.bindAddress, config.hostPort, gateway));
  const run = new command.local.Command(
    `${name}-run`,
    {
      dir: UNIKERNEL_DIR,
      create: forwards.apply((list) => qemuStartCommand(config, { layout, forwards: list, variant: args.variant })),
      delete: qemuStopCommand(layout),
      triggers: [triggers.kernel, triggers.initrd, triggers.run],
    },
    // A running QEMU changes nothing in place (memory, forwards, kernel): any change is a new one.
    { ...replaceInPlace, dependsOn: [kernel, initrd, ...(args.runDependsOn ?? [])], replaceOnChanges: ["*"] },
  );
  return { kernel, initrd, run, layout, triggers };
}
