import { createHash } from "crypto";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hashBuildInputs } from "../../model/buildInputs";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { UNIKERNEL_DIR } from "./kraft";
import { sourceForwards } from "./network";
import {
  INITRD_BUILD_INPUTS,
  InitrdTags,
  initrdBuildCommand,
  initrdDeleteCommand,
  KERNEL_BUILD_INPUTS,
  kernelBuildCommand,
  layoutFrom,
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
  /** Where the stack's files are on this machine (absolute: the pid file the bench reads). */
  layout: SourceLayout;
  triggers: SourceTriggers;
}

/**
 * kernel (make) → initrd (docker) → run (QEMU, waited on /health), parented to `parent`. The two
 * builds run one after the other: each takes every core it gets.
 */
export function sourceSteps(name: string, args: SourceStepsArgs, parent: pulumi.Resource): SourceSteps {
  const { config } = args;
  // Paths relative to the steps' folder, never absolute: pulumi-command diffs `create` and `delete`
  // like any input, and a changed input is an Update that runs `create` again without the old
  // `delete` (pulumi/pulumi-command v1.2.1, provider/pkg/provider/local/commandController.go,
  // Command.Update). So the same stack from another clone of the project sees no change.
  const layout = sourceLayout(args.projectDir, args.stack);
  const stepLayout = layoutFrom(UNIKERNEL_DIR, sourceLayout(".", args.stack));
  const projectFromSteps = path.relative(UNIKERNEL_DIR, ".");
  const triggers = sourceTriggers(config, args.images, args.projectDir);
  const tags = initrdTags(args.stack, triggers.initrd);
  // Every step writes one fixed path (kernel folder, initrd file, run folder and ports): a
  // replacement must remove the old one first, or the old one's delete would wipe the new one.
  // Any change is a replacement (old delete, then create), never pulumi-command's Update: a step
  // re-runs when its trigger (the hash of what it is made from) or its command changes.
  const replaceInPlace = { parent, deleteBeforeReplace: true, replaceOnChanges: ["*"] };

  const kernel = new command.local.Command(
    `${name}-kernel`,
    { dir: UNIKERNEL_DIR, create: kernelBuildCommand(config.source, stepLayout, projectFromSteps), delete: kernelDeleteCommand(stepLayout), triggers: [triggers.kernel] },
    replaceInPlace,
  );
  const initrd = new command.local.Command(
    `${name}-initrd`,
    { dir: UNIKERNEL_DIR, create: initrdBuildCommand(args.images, tags, stepLayout), delete: initrdDeleteCommand(tags, stepLayout), triggers: [triggers.initrd] },
    { ...replaceInPlace, dependsOn: [kernel] },
  );
  const forwards = pulumi.output(args.gateway).apply((gateway) => sourceForwards(args.bindAddress, config.hostPort, gateway));
  const run = new command.local.Command(
    `${name}-run`,
    {
      dir: UNIKERNEL_DIR,
      create: forwards.apply((list) => qemuStartCommand(config, { layout: stepLayout, forwards: list, variant: args.variant })),
      delete: qemuStopCommand(stepLayout),
      triggers: [triggers.kernel, triggers.initrd, triggers.run],
    },
    // A running QEMU changes nothing in place (memory, forwards, kernel): any change is a new one.
    { ...replaceInPlace, dependsOn: [kernel, initrd, ...(args.runDependsOn ?? [])] },
  );
  return { kernel, initrd, run, layout, triggers };
}
