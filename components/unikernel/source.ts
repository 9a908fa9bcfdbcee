import * as path from "path";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { APP_PORT } from "../../model/naming";
import { WEB_API_BUILD_INPUTS } from "../../model/buildInputs";
import { shellQuote } from "./shell";

/**
 * The source builder's commands (unikernel/source/*.sh), as the Pulumi command resources and
 * `npm run unikernel` both run them: from the unikernel/ folder, every path absolute.
 */

/** What the guest runs: Debian's Node on the compiled app, as the Kraftfile's cmd. */
export const GUEST_COMMAND = ["/usr/bin/node", "/app/dist/server.js"] as const;
/** The app's environment in the guest, as the Kraftfile's env. */
export function guestEnvironment(variant: string): Record<string, string> {
  return { PORT: String(APP_PORT), VARIANT: variant, NODE_ENV: "production", WORKERS: "1" };
}
/** QEMU exits at once on SIGTERM (the guest gets no shutdown); the grace only covers a QEMU that hangs. */
export const QEMU_STOP_GRACE_SECONDS = 5;

/** Files each step is made from, relative to the project root: their hash is the step's trigger. */
export const KERNEL_BUILD_INPUTS: readonly string[] = ["unikernel/source/defconfig", "unikernel/source/build-kernel.sh"];
export const INITRD_BUILD_INPUTS: readonly string[] = [...WEB_API_BUILD_INPUTS, "unikernel/source/Dockerfile", "unikernel/source/build-initrd.sh"];
export const RUN_INPUTS: readonly string[] = ["unikernel/source/qemu.sh", "unikernel/wait-for-health.ts"];

/** Where one stack's source-built unikernel lives on this machine (absolute paths). */
export interface SourceLayout {
  kernelDir: string;
  kernel: string;
  initrd: string;
  /** QEMU's pid file, serial log and health log; removed when it stops. */
  runDir: string;
  pidFile: string;
}

/**
 * The same layout relative to `dir`, where a step's commands run: paths that are the same in every
 * clone of the project.
 */
export function layoutFrom(dir: string, layout: SourceLayout): SourceLayout {
  const from = (file: string) => path.relative(dir, file);
  return { kernelDir: from(layout.kernelDir), kernel: from(layout.kernel), initrd: from(layout.initrd), runDir: from(layout.runDir), pidFile: from(layout.pidFile) };
}

/** One folder per stack, so dev and ci never share (or delete) each other's kernel or VM. */
export function sourceLayout(projectDir: string, stack: string): SourceLayout {
  const buildDir = path.join(projectDir, "unikernel", ".build", stack);
  const kernelDir = path.join(buildDir, "kernel");
  const runDir = path.join(projectDir, "unikernel", ".run", stack);
  return {
    kernelDir,
    kernel: path.join(kernelDir, "elfloader_qemu-x86_64"),
    initrd: path.join(buildDir, "initrd.cpio"),
    runDir,
    pidFile: path.join(runDir, "qemu.pid"),
  };
}

/** An archive location downloaded rather than read from disk. */
export function isUrl(location: string): boolean {
  return /^https?:\/\//.test(location);
}

/**
 * A URL or an absolute path as it is; a relative path (stack files name them relative to the project
 * root) under `base`, the project root as a path absolute or relative to where the command runs.
 */
export function resolveArchive(location: string, base: string): string {
  return isUrl(location) || path.isAbsolute(location) ? location : path.join(base, location);
}

/** `bash source/build-kernel.sh ...` as an argument list (the CLI spawns it; the command resource runs its quoted line). `projectDir`: the project root, absolute or relative to unikernel/ (where the command runs). */
export function kernelBuildArgv(source: UnikernelConfig["source"], layout: Pick<SourceLayout, "kernelDir">, projectDir: string): string[] {
  const { archives, sha256 } = source;
  const arg = (flag: string, key: keyof typeof archives) => [`--${flag}`, resolveArchive(archives[key], projectDir), `--${flag}-sha256`, sha256[key]];
  return [
    "bash", "source/build-kernel.sh", "--out", layout.kernelDir,
    ...arg("unikraft", "unikraft"),
    ...arg("app-elfloader", "appElfloader"),
    ...arg("lib-lwip", "libLwip"),
    ...arg("lib-libelf", "libLibelf"),
    ...arg("lwip-zip", "lwipZip"),
  ];
}

/** An argument list as one /bin/sh line, every word quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

export function kernelBuildCommand(source: UnikernelConfig["source"], layout: Pick<SourceLayout, "kernelDir">, projectDir: string): string {
  return shellLine(kernelBuildArgv(source, layout, projectDir));
}

export function kernelDeleteCommand(layout: Pick<SourceLayout, "kernelDir">): string {
  return `rm -rf ${shellQuote(layout.kernelDir)}`;
}

export interface InitrdTags {
  /** The web API's `app` target built on the way. */
  appTag: string;
  /** The image holding the cpio archive. */
  payloadTag: string;
}

/** Debian's nodejs comes from `images.nodeImage`'s apt (a Debian bookworm image in every stack). */
export function initrdBuildArgv(images: ImagesConfig, tags: InitrdTags, layout: Pick<SourceLayout, "initrd">): string[] {
  return [
    "bash", "source/build-initrd.sh", "--out", layout.initrd,
    "--app-tag", tags.appTag, "--payload-tag", tags.payloadTag,
    "--debian-image", images.nodeImage, "--node-image", images.nodeImage,
    ...(images.buildNetwork === "host" ? ["--network", "host"] : []),
  ];
}

export function initrdBuildCommand(images: ImagesConfig, tags: InitrdTags, layout: Pick<SourceLayout, "initrd">): string {
  return shellLine(initrdBuildArgv(images, tags, layout));
}

export function initrdDeleteCommand(tags: InitrdTags, layout: Pick<SourceLayout, "initrd">): string {
  return `docker image rm --force ${shellQuote(tags.payloadTag)} ${shellQuote(tags.appTag)} >/dev/null 2>&1 || true; rm -f ${shellQuote(layout.initrd)}`;
}

export interface QemuStartArgs {
  layout: SourceLayout;
  /** Every `address:port` QEMU forwards to the guest's 8000; the first is where /health is awaited. */
  forwards: string[];
  variant: string;
}

export function qemuStartArgv(config: Pick<UnikernelConfig, "memoryMi" | "accel" | "tcgCacheMi" | "healthTimeoutSeconds" | "cpuset">, args: QemuStartArgs): string[] {
  return [
    "bash", "source/qemu.sh", "start", "--run-dir", args.layout.runDir,
    "--kernel", args.layout.kernel, "--initrd", args.layout.initrd,
    "--memory", String(config.memoryMi), "--accel", config.accel, "--tcg-cache", String(config.tcgCacheMi), "--timeout", String(config.healthTimeoutSeconds),
    ...(config.cpuset === undefined ? [] : ["--cpuset", config.cpuset]),
    ...args.forwards.flatMap((forward) => ["--forward", forward]),
    ...Object.entries(guestEnvironment(args.variant)).flatMap(([name, value]) => ["--env", `${name}=${value}`]),
    "--",
    ...GUEST_COMMAND,
  ];
}

export function qemuStartCommand(config: Pick<UnikernelConfig, "memoryMi" | "accel" | "tcgCacheMi" | "healthTimeoutSeconds" | "cpuset">, args: QemuStartArgs): string {
  return shellLine(qemuStartArgv(config, args));
}

export function qemuStopArgv(layout: Pick<SourceLayout, "runDir">): string[] {
  return ["bash", "source/qemu.sh", "stop", "--run-dir", layout.runDir, "--grace", String(QEMU_STOP_GRACE_SECONDS)];
}

export function qemuStopCommand(layout: Pick<SourceLayout, "runDir">): string {
  return shellLine(qemuStopArgv(layout));
}

/** The acceleration the start step chose, from its last line `accel=kvm|tcg`. */
export function acceleratorFromStartOutput(stdout: string): "kvm" | "tcg" | undefined {
  const match = /^accel=(kvm|tcg)\s*$/m.exec(stdout);
  return match ? (match[1] as "kvm" | "tcg") : undefined;
}
