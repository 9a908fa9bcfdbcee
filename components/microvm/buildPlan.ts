/**
 * The micro-VM's steps for one stack and guest as argv lists, in the order they run: the payload
 * (the unikernel's initrd step, run from unikernel/), the kernel, the disk, then start and stop.
 * `npm run vm` and `npm run vm:targets` both run this plan; the component runs the same command
 * lines through pulumi-command.
 */
import * as path from "path";
import { ImagesConfig, MicrovmSpec } from "../../model/config";
import { initrdBuildArgv, initrdDeleteCommand, InitrdTags } from "../unikernel/source";
import { initrdTags } from "../unikernel/sourceBuild";
import { diskBuildArgv, kernelBuildArgv, microvmLayout, MicrovmLayout, microvmStartArgv, microvmStopArgv, MicrovmTriggers, microvmTriggers, payloadTrigger } from "./commands";

export interface MicrovmPlan {
  layout: MicrovmLayout;
  triggers: MicrovmTriggers;
  tags: InitrdTags;
  /** Run from `unikernel/`, as the unikernel's own initrd step. */
  payload: { argv: string[]; cwd: string; deleteCommand: string };
  kernel: string[];
  disk: string[];
  /** QEMU with these forwards; `memoryMb` and `healthTimeoutSeconds` may be overridden (the floor search). */
  start(forwards: readonly string[], overrides?: Partial<Pick<MicrovmSpec, "memoryMb" | "healthTimeoutSeconds">>): string[];
  stop: string[];
}

export function microvmPlan(stack: string, variant: string, spec: MicrovmSpec, images: ImagesConfig, projectDir: string): MicrovmPlan {
  const layout = microvmLayout(stack, variant);
  const triggers = microvmTriggers(spec, images, projectDir);
  const tags = initrdTags(stack, payloadTrigger(images, projectDir));
  // The payload's path as the initrd step, run from unikernel/, sees it.
  const payload = { initrd: path.posix.join("..", layout.payload) };
  return {
    layout,
    triggers,
    tags,
    payload: { argv: initrdBuildArgv(images, tags, payload), cwd: path.join(projectDir, "unikernel"), deleteCommand: initrdDeleteCommand(tags, payload) },
    kernel: kernelBuildArgv(spec, layout, triggers.kernel),
    disk: diskBuildArgv(layout, triggers.disk),
    start: (forwards, overrides = {}) => microvmStartArgv({ ...spec, ...overrides }, { layout, forwards: [...forwards], variant }),
    stop: microvmStopArgv(layout),
  };
}
