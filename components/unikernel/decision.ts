import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { UnikernelConfig } from "../../model/config";
import { PreflightError } from "../preflight";
import { HostProbes } from "../../tooling/hostProbes";
import { isUrl, resolveArchive } from "./source";

export const SKIPPED_KRAFT_NOT_FOUND = "skipped: kraft not found";
const KRAFT_INSTALL = "install KraftKit (`curl -sSfL https://get.kraftkit.sh | sh`, see https://unikraft.org/docs/cli/install) and QEMU";
const SOURCE_INSTALL =
  "install QEMU and the build tools (Debian: `apt-get install --no-install-recommends qemu-system-x86 build-essential flex bison unzip`)";
const AND_AGAIN = ", then run `pulumi up` again";
export const KRAFT_INSTALL_HINT = `${KRAFT_INSTALL}${AND_AGAIN}`;
export const SOURCE_INSTALL_HINT = `${SOURCE_INSTALL}${AND_AGAIN}`;
/** What the source builder runs: QEMU, and make with the tools Unikraft's build calls. */
export const SOURCE_RUN_TOOLS = ["qemu-system-x86_64", "make"] as const;
export const SOURCE_BUILD_TOOLS = [...SOURCE_RUN_TOOLS, "gcc", "flex", "bison", "unzip"] as const;

export type UnikernelDecision =
  | { deploy: true; builder: "kraft"; emulation: boolean }
  | { deploy: true; builder: "source" }
  | { deploy: false; status: string; warning?: string };

type DecisionConfig = Pick<UnikernelConfig, "enabled" | "builder" | "emulation" | "platform" | "source">;

/** `skipped: no kraft, no make`: the status names every missing program. */
function skippedStatus(missing: readonly string[]): string {
  return `skipped: ${missing.map((name) => `no ${name}`).join(", ")}`;
}

function backticked(names: readonly string[]): string {
  return names.map((name) => `\`${name}\``).join(", ");
}

/**
 * Whether to deploy the unikernel, with which builder and how. `enabled: auto` without a usable
 * builder skips it with one warning; `enabled: true` without one is a mistake the user must see
 * before anything is deployed. `builder: auto` prefers kraft, then the source build.
 */
export function decideUnikernel(config: DecisionConfig, probes: HostProbes, projectDir = path.resolve(__dirname, "../..")): UnikernelDecision {
  if (config.enabled === false) return { deploy: false, status: "disabled" };
  const fail = (message: string): never => {
    throw new PreflightError([message], pulumi.getStack());
  };
  const missing = (tools: readonly string[]) => tools.filter((tool) => !probes.commandOnPath(tool));

  let builder = config.builder;
  if (builder === "auto") {
    if (probes.commandOnPath("kraft")) builder = "kraft";
    else if (missing(SOURCE_RUN_TOOLS).length === 0) builder = "source";
    else {
      const absent = ["kraft", ...missing(SOURCE_RUN_TOOLS)];
      const ways = `either ${KRAFT_INSTALL}, or ${SOURCE_INSTALL_HINT}`;
      if (config.enabled === true) {
        fail(`optivolt:unikernel.enabled is true but no builder can run here (${backticked(absent)} not on the PATH): ${ways}; or set enabled to auto to deploy the rest without it.`);
      }
      return { deploy: false, status: skippedStatus(absent), warning: `The unikernel variant is skipped: ${backticked(absent)} not on the PATH. To deploy it, ${ways}.` };
    }
  }
  return builder === "kraft" ? decideKraft(config, probes, fail) : decideSource(config, probes, projectDir, fail, missing(SOURCE_BUILD_TOOLS));
}

function decideKraft(config: DecisionConfig, probes: HostProbes, fail: (message: string) => never): UnikernelDecision {
  if (!probes.commandOnPath("kraft")) {
    if (config.enabled === true) {
      fail(`optivolt:unikernel.enabled is true but \`kraft\` is not on the PATH: ${KRAFT_INSTALL_HINT}, or set it to auto to deploy the rest without it.`);
    }
    return {
      deploy: false,
      status: SKIPPED_KRAFT_NOT_FOUND,
      warning: `The unikernel variant is skipped: \`kraft\` is not on the PATH. To deploy it, ${KRAFT_INSTALL_HINT}.`,
    };
  }
  const emulation = config.emulation === "auto" ? !probes.kvmUsable() : config.emulation;
  if (emulation && config.platform !== "qemu") {
    fail(`optivolt:unikernel.platform is ${config.platform}, which needs KVM, and /dev/kvm is not usable here: use platform qemu (it emulates the CPU without KVM) or a machine with KVM.`);
  }
  return { deploy: true, builder: "kraft", emulation };
}

function decideSource(config: DecisionConfig, probes: HostProbes, projectDir: string, fail: (message: string) => never, absent: string[]): UnikernelDecision {
  if (absent.length > 0) {
    if (config.enabled === true) {
      fail(`optivolt:unikernel.enabled is true but the source builder needs ${backticked(absent)}, not on the PATH: ${SOURCE_INSTALL_HINT}, or set enabled to auto to deploy the rest without it.`);
    }
    return {
      deploy: false,
      status: skippedStatus(absent),
      warning: `The unikernel variant is skipped: the source builder needs ${backticked(absent)}, not on the PATH. To deploy it, ${SOURCE_INSTALL_HINT}.`,
    };
  }
  // A local archive that is not there would fail the kernel step minutes into `pulumi up`; say it now.
  const problems = missingArchiveProblems(config.source, projectDir, probes.fileExists);
  if (problems.length > 0) throw new PreflightError(problems, pulumi.getStack());
  return { deploy: true, builder: "source" };
}

/** One line per local archive of the stack that is not there, with the fix (the program's preflight and `npm run unikernel` both say it). */
export function missingArchiveProblems(source: UnikernelConfig["source"], projectDir: string, fileExists: (file: string) => boolean): string[] {
  return Object.entries(source.archives).flatMap(([key, location]) => {
    if (isUrl(location)) return [];
    const file = resolveArchive(location, projectDir);
    if (fileExists(file)) return [];
    return [
      `optivolt:unikernel.source.archives.${key} is ${location}, which does not exist (${file}, resolved against the project root): ` +
        "put the archive there, point the key at an existing file, or remove the key to download the upstream release.",
    ];
  });
}
