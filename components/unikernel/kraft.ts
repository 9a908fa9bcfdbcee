import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hashBuildInputs } from "../../model/buildInputs";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { APP_PORT } from "../../model/naming";
import { shellQuote } from "./shell";

/**
 * The kraft builder: KraftKit builds the unikernel from unikernel/Kraftfile and runs it. Every
 * command runs in unikernel/.
 */

/** The web API image target holding the compiled app alone (/app: dist + production node_modules). */
export const APP_IMAGE_TARGET = "app";
/** Where the rootfs step extracts the root file system; the Kraftfile's `rootfs:` names it. */
export const ROOTFS_DIR = "rootfs";
/** Project-relative folder of the Kraftfile and the source builder's scripts; every command runs there. */
export const UNIKERNEL_DIR = "unikernel";
/** kraft reads these instead of prompting or drawing a TUI, which a Pulumi log cannot show. */
const KRAFT_ENV = { KRAFTKIT_NO_PROMPT: "true", KRAFTKIT_LOG_TYPE: "basic" };

/** `-M` takes a Kubernetes quantity: `Mi` is MiB, while a bare `M` would be 10^6 bytes. */
export function memoryQuantity(memoryMi: number): string {
  return `${memoryMi}Mi`;
}

/** Where the unikernel answers, from this machine: the forwarded loopback port, or its bridge address. */
export function unikernelUrl(config: Pick<UnikernelConfig, "network" | "hostPort" | "bridge">, host: string): string {
  return config.network === "bridge" ? `http://${config.bridge.ip}:${APP_PORT}` : `http://${host}:${config.hostPort}`;
}

/**
 * What `docker export` adds to any container's tree: the /.dockerenv marker, device nodes and the
 * engine's generated /etc files. Unikraft mounts its own /dev and its ELF loader provides /etc/hosts
 * and /etc/resolv.conf, so they stay out of the guest.
 */
const DOCKER_EXPORT_ARTIFACTS = [".dockerenv", "dev/*", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab"];

export interface RootfsCommandArgs {
  images: ImagesConfig;
  /** Image whose (position-independent) Node the rootfs packs. */
  nodeImage: string;
  /** Tag of the web API's `app` target built on the way. */
  appImageTag: string;
  /** Tag of the rootfs image (unikernel/Dockerfile). */
  rootfsImageTag: string;
  /** Folder the root file system is extracted to, relative to unikernel/ or absolute. */
  outDir: string;
  /** false lets a non-PIE Node through: only for inspecting the tree where no PIE Node exists (offline tests). */
  requirePie?: boolean;
}

/**
 * Builds the web API's `app` target from images/ exactly as the variants do, adds a PIE Node and
 * its libraries with unikernel/Dockerfile (no build context: it only copies from images), and
 * extracts the result as the plain directory the Kraftfile's `rootfs:` points at. A directory
 * needs no BuildKit daemon on kraft's side, unlike a `rootfs: ./Dockerfile`. `--force-rm`: the
 * legacy builder otherwise keeps the container of a failed step (the PIE check fails by design).
 */
export function rootfsBuildCommand(args: RootfsCommandArgs): string {
  const q = shellQuote;
  const network = args.images.buildNetwork === "host" ? " --network host" : "";
  const tarball = `${args.outDir}.tar`;
  return [
    "set -eu",
    `docker build --quiet --force-rm${network} --target ${APP_IMAGE_TARGET} --build-arg NODE_IMAGE=${q(args.images.nodeImage)} --tag ${q(args.appImageTag)} ../images`,
    `docker build --quiet --force-rm${network} --build-arg APP_IMAGE=${q(args.appImageTag)} --build-arg NODE_IMAGE=${q(args.nodeImage)}` +
      `${args.requirePie === false ? " --build-arg REQUIRE_PIE=false" : ""} --tag ${q(args.rootfsImageTag)} - < Dockerfile`,
    `container=$(docker create ${q(args.rootfsImageTag)})`,
    `trap 'docker rm --force "$container" >/dev/null; rm -f ${q(tarball)}' EXIT`,
    `docker export --output ${q(tarball)} "$container"`,
    `rm -rf ${q(args.outDir)} && mkdir -p ${q(args.outDir)} && tar -xf ${q(tarball)} -C ${q(args.outDir)} ` +
      DOCKER_EXPORT_ARTIFACTS.map((pattern) => `--exclude=${q(pattern)}`).join(" "),
  ].join("\n");
}

/** Undoes the rootfs step: its two images and the extracted directory. */
export function rootfsDeleteCommand(args: Pick<RootfsCommandArgs, "appImageTag" | "rootfsImageTag" | "outDir">): string {
  return `docker image rm --force ${shellQuote(args.rootfsImageTag)} ${shellQuote(args.appImageTag)} >/dev/null 2>&1 || true; rm -rf ${shellQuote(args.outDir)}`;
}

/** `kraft build`: here `--plat` is the platform (on `kraft run`, `-p` would be a port). */
export function kraftBuildCommand(config: Pick<UnikernelConfig, "platform" | "architecture">): string {
  return `kraft build --plat ${config.platform} --arch ${config.architecture} .`;
}

export interface RunCommandArgs {
  /** Name of the kraft instance (`kraft ps`), also what delete stops. */
  name: string;
  /** Host address the forwarded port binds to (user networking). */
  bindAddress: string;
  /** Add `--disable-acceleration` (QEMU's TCG emulation) because KVM is not usable. */
  emulation: boolean;
}

/** `kraft run`, detached and named, with memory in Mi and either a forwarded port or a bridge address. */
export function kraftRunCommand(config: UnikernelConfig, args: RunCommandArgs): string {
  const networking =
    config.network === "bridge"
      ? `--network ${shellQuote(`${config.bridge.name}:${config.bridge.ip}/${config.bridge.prefixLength}`)}`
      : `--port ${shellQuote(`${args.bindAddress}:${config.hostPort}:${APP_PORT}`)}`;
  return [
    "kraft run --detach",
    `--name ${shellQuote(args.name)}`,
    `--plat ${config.platform} --arch ${config.architecture}`,
    `--memory ${memoryQuantity(config.memoryMi)}`,
    networking,
    ...(args.emulation ? ["--disable-acceleration"] : []),
    ".",
  ].join(" ");
}

/**
 * The run step: start the instance, then wait for GET /health within the configured deadline.
 * On a timeout it prints the guest's last log lines, removes the instance (so the next `up` can
 * reuse the name) and fails with the reason.
 */
export function runCreateCommand(config: UnikernelConfig, args: RunCommandArgs & { healthUrl: string }): string {
  const name = shellQuote(args.name);
  const wait = `node -r ts-node/register/transpile-only wait-for-health.ts ${shellQuote(args.healthUrl)} ${config.healthTimeoutSeconds}`;
  return [
    "set -eu",
    kraftRunCommand(config, args),
    `if ! ${wait}; then`,
    `  kraft logs ${name} 2>&1 | tail -n 40 >&2 || true`,
    `  kraft rm ${name} >/dev/null 2>&1 || true`,
    `  echo "unikernel ${args.name} removed: /health did not answer within ${config.healthTimeoutSeconds} s (guest log above; try more memoryMi or healthTimeoutSeconds)" >&2`,
    "  exit 1",
    "fi",
  ].join("\n");
}

/** Stops and removes the instance; one already gone (removed by hand) does not block `pulumi destroy`. */
export function instanceDeleteCommand(name: string): string {
  return `kraft stop ${shellQuote(name)} || true; kraft rm ${shellQuote(name)} || true`;
}

export function bridgeCreateCommand(bridge: UnikernelConfig["bridge"]): string {
  return `kraft net create --network ${bridge.gateway}/${bridge.prefixLength} ${shellQuote(bridge.name)}`;
}

export function bridgeDeleteCommand(bridge: UnikernelConfig["bridge"]): string {
  return `kraft net rm ${shellQuote(bridge.name)}`;
}

export interface KraftStepsArgs {
  config: UnikernelConfig;
  images: ImagesConfig;
  /** Name of the kraft instance. */
  instanceName: string;
  /** Address the forwarded port binds to. */
  bindAddress: string;
  /** Run under QEMU's TCG emulation (`--disable-acceleration`). */
  emulation: boolean;
  /** Project root, for the build-input hash. */
  projectDir: string;
}

export interface KraftSteps {
  run: command.local.Command;
  /** Where the instance answers once the run step is done. */
  url: string;
  /** Hash of the build inputs: every step's trigger. */
  sourceHash: string;
}

/** rootfs (docker) → kernel (kraft build) → instance (kraft run, waited on /health), parented to `parent`. */
export function kraftSteps(name: string, args: KraftStepsArgs, parent: pulumi.Resource): KraftSteps {
  const { config } = args;
  const sourceHash = hashBuildInputs(args.projectDir);
  const tag = sourceHash.slice(0, 12);
  const rootfsArgs = {
    images: args.images,
    nodeImage: config.nodeImage,
    appImageTag: `optivolt-unikernel-app:${tag}`,
    rootfsImageTag: `optivolt-unikernel-rootfs:${tag}`,
    outDir: ROOTFS_DIR,
  };
  const common = { dir: UNIKERNEL_DIR, environment: KRAFT_ENV };
  const triggers = [sourceHash];
  // Every step writes to one fixed place (rootfs/, .unikraft/, the instance name and port): a
  // replacement must remove the old one first, or the old one's delete would wipe the new one.
  const replaceInPlace = { parent, deleteBeforeReplace: true };

  const rootfs = new command.local.Command(
    `${name}-rootfs`,
    { ...common, create: rootfsBuildCommand(rootfsArgs), delete: rootfsDeleteCommand(rootfsArgs), triggers },
    replaceInPlace,
  );
  const kernel = new command.local.Command(
    `${name}-build`,
    { ...common, create: kraftBuildCommand(config), delete: "rm -rf .unikraft", triggers },
    { ...replaceInPlace, dependsOn: [rootfs] },
  );
  const dependencies: pulumi.Resource[] = [kernel];
  if (config.network === "bridge") {
    dependencies.push(
      new command.local.Command(
        `${name}-bridge`,
        { ...common, create: bridgeCreateCommand(config.bridge), delete: bridgeDeleteCommand(config.bridge) },
        { ...replaceInPlace, replaceOnChanges: ["*"] },
      ),
    );
  }

  // kraft runs the VM on this machine whatever docker:host says, so the URL names this machine.
  const host = args.bindAddress === "0.0.0.0" ? "127.0.0.1" : args.bindAddress;
  const url = unikernelUrl(config, host);
  const runArgs = { name: args.instanceName, bindAddress: args.bindAddress, emulation: args.emulation, healthUrl: `${url}/health` };
  const run = new command.local.Command(
    `${name}-run`,
    { ...common, create: runCreateCommand(config, runArgs), delete: instanceDeleteCommand(args.instanceName), triggers },
    // Any change at all (memory, port, ...) means a new instance: kraft cannot update one in place.
    { ...replaceInPlace, dependsOn: dependencies, replaceOnChanges: ["*"] },
  );
  return { run, url, sourceHash };
}
