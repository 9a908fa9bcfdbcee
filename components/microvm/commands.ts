import { createHash } from "crypto";
import * as path from "path";
import { hashBuildInputs } from "../../model/buildInputs";
import { ImagesConfig, MicrovmSpec, UnikernelConfig } from "../../model/config";
import { APP_SHUTDOWN_TIMEOUT_MS } from "../../model/naming";
import { GUEST_COMMAND, guestEnvironment, RUN_INPUTS, shellLine, sourceLayout } from "../unikernel/source";
import { sourceTriggers } from "../unikernel/sourceBuild";
import { shellQuote } from "../unikernel/shell";
import { WEBAPI_STOP_GRACE_SECONDS } from "../webApiVariant";

/**
 * The micro-VM's command lines (microvm/*.sh, and the one QEMU runner unikernel/source/qemu.sh with
 * `--guest linux`), as the Pulumi command resources and `npm run vm` both run them: from the project
 * root, every path relative to it, so another checkout of the same stack runs the same lines.
 */

/** Files each step is made from, relative to the project root: their hash is part of the step's trigger. */
export const MICROVM_KERNEL_INPUTS: readonly string[] = ["microvm/build-kernel.sh", "microvm/init"];
export const MICROVM_DISK_INPUTS: readonly string[] = ["microvm/build-disk.sh"];

/** Where one micro-VM of one stack lives, relative to the project root. */
export interface MicrovmLayout {
  kernelDir: string;
  kernel: string;
  initramfs: string;
  /** busybox-static from the kernel step, which the disk step puts on the disk. */
  busybox: string;
  disk: string;
  /** The unikernel's initrd: Debian's Node and the app tree, the one payload both VM rungs run. */
  payload: string;
  /** QEMU's pid file, serial log, monitor FIFOs and health log; removed when it stops. */
  runDir: string;
  pidFile: string;
  serialLog: string;
}

/** One folder per stack and variant, so stacks and variants never share (or delete) each other's files. */
export function microvmLayout(stack: string, variant: string): MicrovmLayout {
  const buildDir = path.posix.join("microvm", ".build", stack, variant);
  const kernelDir = path.posix.join(buildDir, "kernel");
  const runDir = path.posix.join("microvm", ".run", stack, variant);
  // The unikernel's layout is absolute; its initrd sits at the same place under any checkout.
  const unikernel = sourceLayout(".", stack);
  return {
    kernelDir,
    kernel: path.posix.join(kernelDir, "vmlinuz"),
    initramfs: path.posix.join(kernelDir, "initramfs.cpio"),
    busybox: path.posix.join(kernelDir, "busybox"),
    disk: path.posix.join(buildDir, "disk.squashfs"),
    payload: path.relative(".", unikernel.initrd).split(path.sep).join("/"),
    runDir,
    pidFile: path.posix.join(runDir, "qemu.pid"),
    serialLog: path.posix.join(runDir, "serial.log"),
  };
}

function hashOf(parts: readonly string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex");
}

/** What each step is made from; a step re-runs exactly when its hash changes. */
export interface MicrovmTriggers {
  /** build-kernel.sh, the init, and the two packages as the stack file names them. */
  kernel: string;
  /** build-disk.sh, the kernel step (its busybox) and the payload's own trigger (the unikernel's initrd). */
  disk: string;
  /** The runner and health probe, and both builds. */
  run: string;
}

/** The unikernel's initrd step's trigger: the disk's payload follows the same sources and Debian image. */
export function payloadTrigger(images: Pick<ImagesConfig, "nodeImage">, projectDir: string): string {
  // Its kernel half, which alone reads the archives, is not used here.
  const noArchives = { source: { archives: {} } } as Pick<UnikernelConfig, "source">;
  return sourceTriggers(noArchives, images, projectDir).initrd;
}

export function microvmTriggers(spec: Pick<MicrovmSpec, "kernelPackage" | "busyboxPackage">, images: Pick<ImagesConfig, "nodeImage">, projectDir: string): MicrovmTriggers {
  const kernel = hashOf([hashBuildInputs(projectDir, MICROVM_KERNEL_INPUTS), spec.kernelPackage, spec.busyboxPackage]);
  const disk = hashOf([hashBuildInputs(projectDir, MICROVM_DISK_INPUTS), kernel, payloadTrigger(images, projectDir)]);
  return { kernel, disk, run: hashOf([hashBuildInputs(projectDir, RUN_INPUTS), kernel, disk]) };
}

export function kernelBuildArgv(spec: Pick<MicrovmSpec, "kernelPackage" | "busyboxPackage">, layout: Pick<MicrovmLayout, "kernelDir">, key: string): string[] {
  return ["bash", "microvm/build-kernel.sh", "--kernel-package", spec.kernelPackage, "--busybox-package", spec.busyboxPackage, "--out", layout.kernelDir, "--key", key];
}

export function kernelBuildCommand(spec: Pick<MicrovmSpec, "kernelPackage" | "busyboxPackage">, layout: Pick<MicrovmLayout, "kernelDir">, key: string): string {
  return shellLine(kernelBuildArgv(spec, layout, key));
}

export function kernelDeleteCommand(layout: Pick<MicrovmLayout, "kernelDir">): string {
  return `rm -rf ${shellQuote(layout.kernelDir)}`;
}

export function diskBuildArgv(layout: Pick<MicrovmLayout, "payload" | "busybox" | "disk">, key: string): string[] {
  return ["bash", "microvm/build-disk.sh", "--payload", layout.payload, "--busybox", layout.busybox, "--out", layout.disk, "--key", key];
}

export function diskBuildCommand(layout: Pick<MicrovmLayout, "payload" | "busybox" | "disk">, key: string): string {
  return shellLine(diskBuildArgv(layout, key));
}

export function diskDeleteCommand(layout: Pick<MicrovmLayout, "disk">): string {
  return `rm -f ${shellQuote(layout.disk)} ${shellQuote(`${layout.disk}.key`)}`;
}

/** The app's environment in the guest: the unikernel's, with a worker per vCPU and the containers' drain. */
export function microvmEnvironment(variant: string, cpus: number): Record<string, string> {
  return { ...guestEnvironment(variant), WORKERS: String(cpus), SHUTDOWN_TIMEOUT_MS: String(APP_SHUTDOWN_TIMEOUT_MS) };
}

type StartSpec = Pick<MicrovmSpec, "cpus" | "memoryMb" | "accel" | "tcgCacheMi" | "healthTimeoutSeconds" | "cpuset">;
interface StartArgs {
  layout: MicrovmLayout;
  forwards: string[];
  variant: string;
}

export function microvmStartArgv(spec: StartSpec, args: StartArgs): string[] {
  const { layout } = args;
  return [
    "bash", "unikernel/source/qemu.sh", "start", "--guest", "linux", "--run-dir", layout.runDir,
    "--kernel", layout.kernel, "--initrd", layout.initramfs, "--disk", layout.disk,
    "--memory", String(spec.memoryMb), "--cpus", String(spec.cpus), "--accel", spec.accel, "--tcg-cache", String(spec.tcgCacheMi), "--timeout", String(spec.healthTimeoutSeconds),
    ...(spec.cpuset === undefined ? [] : ["--cpuset", spec.cpuset]),
    ...args.forwards.flatMap((forward) => ["--forward", forward]),
    ...Object.entries(microvmEnvironment(args.variant, spec.cpus)).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
    "--",
    ...GUEST_COMMAND,
  ];
}

export function microvmStartCommand(spec: StartSpec, args: StartArgs): string {
  return shellLine(microvmStartArgv(spec, args));
}

/** The power button first (the init forwards SIGTERM, the app drains), within the containers' stop grace. */
export function microvmStopArgv(layout: Pick<MicrovmLayout, "runDir">): string[] {
  return ["bash", "unikernel/source/qemu.sh", "stop", "--run-dir", layout.runDir, "--grace", String(WEBAPI_STOP_GRACE_SECONDS)];
}

export function microvmStopCommand(layout: Pick<MicrovmLayout, "runDir">): string {
  return shellLine(microvmStopArgv(layout));
}
