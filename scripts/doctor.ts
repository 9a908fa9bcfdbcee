// `npm run doctor`: checks each prerequisite of the lab and says what is missing and how to get it.
// Exit code 1 when a required one is missing; optional ones only warn.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_GENERATOR_IMAGE } from "../bench/cli/args";
import { describeUserlandProxy, userlandProxyState } from "../bench/reach/userlandProxy";
import { ConfigError, loadStackConfig, MicrovmSpec } from "../model/config";
import { LOCAL_BASE_IMAGES } from "../model/naming";
import { hostProbes, KRAFT_INSTALL_HINT, SOURCE_BUILD_TOOLS } from "../components/unikernel";
import { sourceLayout } from "../components/unikernel/source";

const PROJECT_DIR = path.resolve(__dirname, "..");

export type Outcome = { ok: true; detail: string } | { ok: false; detail: string };

export interface Check {
  name: string;
  required: boolean;
  /** What it is for, shown when it is missing. */
  purpose: string;
  /** How to get it, shown when it is missing. */
  fix: string;
  run(): Promise<Outcome>;
}

/** Runs a command and resolves with its trimmed stdout, or rejects with a short reason. */
export function probe(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout.trim());
      const code = (error as NodeJS.ErrnoException).code;
      reject(new Error(code === "ENOENT" ? `${command} is not on the PATH` : (stderr.trim() || error.message).split("\n")[0]));
    });
  });
}

async function outcomeOf(run: () => Promise<string>): Promise<Outcome> {
  try {
    return { ok: true, detail: await run() };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Node ≥ 20 (the program, tests and bench use its built-in fetch and test tooling). */
export function nodeOutcome(version: string): Outcome {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  return major >= 20 ? { ok: true, detail: `node ${version}` } : { ok: false, detail: `node ${version} is older than 20` };
}

/** What the source builder's make run needs (its tools without QEMU); they come with one apt-get, so they share a line. */
export const UNIKERNEL_BUILD_TOOLS = SOURCE_BUILD_TOOLS.filter((tool) => tool !== "qemu-system-x86_64");
export const UNIKERNEL_BUILD_TOOLS_FIX = `Debian/Ubuntu: \`sudo apt-get install --no-install-recommends ${UNIKERNEL_BUILD_TOOLS.join(" ")}\``;
export const DOCKER_CLI_FIX = "Debian/Ubuntu: `sudo apt-get install docker.io`; elsewhere https://docs.docker.com/engine/install/";
export const QEMU_FIX = "Debian/Ubuntu: `sudo apt-get install --no-install-recommends qemu-system-x86`";

/** The build tools line: make's version when all are there, else the missing ones. */
export async function buildToolsOutcome(onPath: (name: string) => boolean, makeVersion: () => Promise<string>): Promise<Outcome> {
  const missing = UNIKERNEL_BUILD_TOOLS.filter((tool) => !onPath(tool));
  if (missing.length > 0) return { ok: false, detail: `${missing.join(", ")} not on the PATH` };
  return outcomeOf(async () => `${(await makeVersion()).split("\n")[0]}; ${UNIKERNEL_BUILD_TOOLS.slice(1).join(", ")} present`);
}

/** What the acceleration line reads from the machine; injectable so tests never boot anything. */
export interface AccelerationProbes {
  kvmUsable(): boolean;
  /** Kernels the source builder already built, of any stack. */
  builtKernels(): string[];
  /** `qemu.sh accel --kernel <kernel>`: what `auto` resolves to, and qemu.sh's reason (its stderr). */
  resolveAccel(kernel: string): Promise<{ accel: string; reason: string }>;
}

/**
 * Which acceleration the unikernel gets here. A /dev/kvm that opens may still not boot the guest
 * (the issue's paravirtual hypervisor), so only a probe boot of a built kernel tells; without one,
 * say when that probe happens rather than guess.
 */
export async function accelerationOutcome(probes: AccelerationProbes): Promise<Outcome> {
  const kernel = probes.builtKernels()[0];
  if (kernel === undefined) {
    return {
      ok: true,
      detail: probes.kvmUsable()
        ? "/dev/kvm is usable; KVM is probed at the first boot (no kernel built yet), TCG emulation if it cannot boot the guest"
        : "tcg: /dev/kvm is not usable here, so QEMU emulates the CPU (no kernel built yet to probe)",
    };
  }
  return outcomeOf(async () => {
    const { accel, reason } = await probes.resolveAccel(kernel);
    const why = /acceleration \w+ \((.*)\)\s*$/m.exec(reason)?.[1];
    return `${accel}${why === undefined ? "" : ` (${why})`}, from \`qemu.sh accel\` on ${path.relative(PROJECT_DIR, kernel)}`;
  });
}

/** The real machine: /dev/kvm, the kernels under unikernel/.build/<stack>/, and qemu.sh itself. */
export function machineAccelerationProbes(projectDir = PROJECT_DIR): AccelerationProbes {
  return {
    kvmUsable: hostProbes.kvmUsable,
    builtKernels: () => {
      const buildDir = path.join(projectDir, "unikernel", ".build");
      const stacks = fs.existsSync(buildDir) ? fs.readdirSync(buildDir) : [];
      return stacks.map((stack) => sourceLayout(projectDir, stack).kernel).filter((kernel) => fs.existsSync(kernel));
    },
    resolveAccel: (kernel) =>
      new Promise((resolve, reject) => {
        const script = path.join(projectDir, "unikernel", "source", "qemu.sh");
        execFile("bash", [script, "accel", "--kernel", kernel], { timeout: 30_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error((stderr.trim() || error.message).split("\n").at(-1)));
          else resolve({ accel: stdout.trim(), reason: stderr });
        });
      }),
  };
}

/** What the probes of one doctor run read: the engine to ask (the stack's docker:host) and the acceleration probes. */
interface ProbeContext {
  dockerHost: string | undefined;
  /** The environment with DOCKER_HOST set to the stack's engine, when it names one. */
  dockerEnv: NodeJS.ProcessEnv;
  acceleration: AccelerationProbes;
  /** The stack's micro-VM variants (null: no --stack given). */
  microvms: Record<string, MicrovmSpec> | null;
}

/** What building a micro-VM's kernel and disk needs beside QEMU (microvm/build-kernel.sh, build-disk.sh). */
export const MICROVM_TOOLS = ["dpkg-deb", "mksquashfs"] as const;

/**
 * Where each micro-VM's kernel and busybox packages come from: a vendored `.deb` must exist (the
 * build checks its sha256), a package name is downloaded by `apt-get download` at build time.
 */
export function microvmPackagesOutcome(microvms: Record<string, MicrovmSpec> | null, exists: (file: string) => boolean): Outcome {
  if (microvms === null) return { ok: true, detail: "no stack given: `npm run doctor -- --stack NAME` checks its micro-VMs' kernel and busybox packages" };
  const names = Object.keys(microvms);
  if (names.length === 0) return { ok: true, detail: "the stack has no micro-VM variant" };
  const missing: string[] = [];
  const found: string[] = [];
  for (const name of names) {
    for (const pkg of [microvms[name].kernelPackage, microvms[name].busyboxPackage]) {
      if (!pkg.endsWith(".deb")) found.push(`${pkg} (apt-get download at build)`);
      else if (exists(pkg)) found.push(path.basename(pkg));
      else missing.push(`${name}: ${pkg} does not exist`);
    }
  }
  return missing.length > 0 ? { ok: false, detail: missing.join("; ") } : { ok: true, detail: [...new Set(found)].join(", ") };
}

/** One row per prerequisite: its name, what it is for, how to get it, and how to probe for it. */
interface Prerequisite {
  name: string | ((context: ProbeContext) => string);
  required: boolean;
  purpose: string;
  fix: string;
  probe(context: ProbeContext): Promise<Outcome>;
}

/** Every prerequisite, in the order the doctor prints them. */
const PREREQUISITES: readonly Prerequisite[] = [
  {
    name: "Node.js ≥ 20",
    required: true,
    purpose: "runs the Pulumi program, the tests and the bench",
    fix: "install Node 20 or newer (https://nodejs.org, or `nvm install 22`)",
    probe: async () => nodeOutcome(process.version),
  },
  {
    name: "docker CLI",
    required: true,
    purpose: "the preflight, the tests and `npm run images:base` call it",
    fix: DOCKER_CLI_FIX,
    probe: () => outcomeOf(() => probe("docker", ["--version"])),
  },
  {
    name: ({ dockerHost }) => `Docker engine (${dockerHost ?? "DOCKER_HOST or the local socket"})`,
    required: true,
    purpose: "runs every variant and the monitoring stack",
    fix:
      "start it (`sudo systemctl start docker`, or `sudo dockerd &`), make sure this user may use it " +
      "(`sudo usermod -aG docker $USER`, then log in again), or point docker:host at an engine that runs",
    probe: ({ dockerEnv }) => outcomeOf(async () => `engine ${await probe("docker", ["version", "--format", "{{.Server.Version}}"], dockerEnv)}`),
  },
  {
    name: "Pulumi CLI",
    required: true,
    purpose: "`pulumi up` / `pulumi destroy` deploy and remove the lab (the unit tests do not need it)",
    fix: "`curl -fsSL https://get.pulumi.com | sh` (then open a new shell), or `brew install pulumi`",
    probe: () => outcomeOf(() => probe("pulumi", ["version"])),
  },
  {
    name: "kraft (optional: or the source builder)",
    required: false,
    purpose: "builds and runs the unikernel variant with KraftKit; without it the source builder (QEMU and make) does",
    fix: KRAFT_INSTALL_HINT,
    probe: () => outcomeOf(() => probe("kraft", ["version"])),
  },
  {
    name: "qemu-system-x86_64 (optional: the source builder)",
    required: false,
    purpose: "runs the source-built unikernel (`npm run unikernel -- up`, `unikernel.builder: source`)",
    fix: QEMU_FIX,
    probe: () => outcomeOf(async () => (await probe("qemu-system-x86_64", ["--version"])).split("\n")[0]),
  },
  {
    name: "unikernel build tools (optional: the source builder)",
    required: false,
    purpose: "build Unikraft's ELF loader from source (`npm run unikernel -- up`, `unikernel.builder: source`)",
    fix: UNIKERNEL_BUILD_TOOLS_FIX,
    probe: () => buildToolsOutcome(hostProbes.commandOnPath, () => probe("make", ["--version"])),
  },
  {
    name: "unikernel acceleration",
    required: false,
    purpose: "KVM runs the unikernel and the micro-VMs at native speed; TCG emulates the CPU (it works everywhere, slower; the same probe decides for both guests)",
    fix: "run `npm run doctor` again for the reason above; KVM needs hardware virtualization and read-write access to /dev/kvm",
    probe: ({ acceleration }) => accelerationOutcome(acceleration),
  },
  {
    name: "micro-VM build tools (optional: micro-VM variants)",
    required: false,
    purpose: "extract the pinned Debian kernel and busybox (dpkg-deb) and make the guest's read-only disk (mksquashfs)",
    fix: "Debian/Ubuntu: `sudo apt-get install --no-install-recommends squashfs-tools` (dpkg-deb comes with dpkg)",
    probe: async () => {
      const missing = MICROVM_TOOLS.filter((tool) => !hostProbes.commandOnPath(tool));
      return missing.length > 0 ? { ok: false, detail: `${missing.join(", ")} not on the PATH` } : { ok: true, detail: `${MICROVM_TOOLS.join(", ")} present` };
    },
  },
  {
    name: "micro-VM kernel packages (optional: micro-VM variants)",
    required: false,
    purpose: "the Linux guest boots the kernel package its stack names (microvm.kernelPackage), checked against its sha256",
    fix: "restore the vendored .deb the stack names (../shared/vendor/linux/ for the ci stack), or name a package apt can download",
    probe: async ({ microvms }) => microvmPackagesOutcome(microvms, (file) => fs.existsSync(path.resolve(PROJECT_DIR, file))),
  },
  {
    name: "debootstrap (optional)",
    required: false,
    purpose: "`npm run images:base` builds the Node base images offline with it (machines without a registry; the ci stack)",
    fix: "`sudo apt-get install debootstrap`",
    probe: () => outcomeOf(() => probe("sh", ["-c", "command -v debootstrap || ls /usr/sbin/debootstrap"])),
  },
  {
    name: "offline base images (optional)",
    required: false,
    purpose: `the ci stack builds from ${Object.values(LOCAL_BASE_IMAGES).join(" and ")} instead of pulling node:22`,
    fix: "`sudo npm run images:base` (needs debootstrap and a running engine)",
    probe: ({ dockerEnv }) =>
      outcomeOf(async () => {
        for (const tag of Object.values(LOCAL_BASE_IMAGES)) await probe("docker", ["image", "inspect", "--format", "{{.Id}}", tag], dockerEnv);
        return "present";
      }),
  },
  {
    name: "Docker userland-proxy (bench)",
    required: false,
    purpose: "tells whether load sent to a published port pays for docker-proxy (`npm run bench -- --path published`)",
    fix: "nothing to fix: the bench's default namespace path does not cross it",
    probe: async () => ({ ok: true, detail: describeUserlandProxy(userlandProxyState()) }),
  },
  {
    name: "bench load generator image (optional)",
    required: false,
    purpose: `\`npm run bench\` runs wrk from ${DEFAULT_GENERATOR_IMAGE} inside each variant's network namespace`,
    fix: "`sudo npm run images:base` (builds it with debootstrap), or measure with `npm run bench -- --path published`",
    probe: ({ dockerEnv }) => outcomeOf(async () => `present (${await probe("docker", ["image", "inspect", "--format", "{{.Size}} bytes", DEFAULT_GENERATOR_IMAGE], dockerEnv)})`),
  },
];

export function prerequisiteChecks(
  dockerHost: string | undefined,
  acceleration: AccelerationProbes = machineAccelerationProbes(),
  microvms: Record<string, MicrovmSpec> | null = null,
): Check[] {
  const dockerEnv = dockerHost === undefined ? process.env : { ...process.env, DOCKER_HOST: dockerHost };
  const context: ProbeContext = { dockerHost, dockerEnv, acceleration, microvms };
  return PREREQUISITES.map(({ name, required, purpose, fix, probe: probeFor }) => ({
    name: typeof name === "string" ? name : name(context),
    required,
    purpose,
    fix,
    run: () => probeFor(context),
  }));
}

export interface Verdict {
  lines: string[];
  missingRequired: string[];
}

/** Renders the outcomes; a missing required prerequisite makes the verdict fail. */
export function verdict(results: { check: Check; outcome: Outcome }[]): Verdict {
  const lines: string[] = [];
  const missingRequired: string[] = [];
  for (const { check, outcome } of results) {
    if (outcome.ok) {
      lines.push(`  ok    ${check.name}: ${outcome.detail}`);
      continue;
    }
    if (check.required) missingRequired.push(check.name);
    lines.push(`  ${check.required ? "MISS " : "warn "} ${check.name}: ${outcome.detail}`);
    lines.push(`        needed for: ${check.purpose}`);
    lines.push(`        fix: ${check.fix}`);
  }
  lines.push(
    missingRequired.length === 0
      ? "Every required prerequisite is present."
      : `Missing required prerequisite(s): ${missingRequired.join(", ")}. Fix them as shown above, then run \`npm run doctor\` again.`,
  );
  return { lines, missingRequired };
}

async function main(): Promise<void> {
  // `npm run doctor -- --stack remote` checks the engine that stack deploys to (its docker:host).
  const stackFlag = process.argv.indexOf("--stack");
  const stack = stackFlag >= 0 ? process.argv[stackFlag + 1] : undefined;
  let dockerHost: string | undefined;
  let microvms: Record<string, MicrovmSpec> | null = null;
  try {
    const config = stack === undefined ? undefined : loadStackConfig(stack);
    dockerHost = config?.dockerHost;
    microvms = config?.microvms ?? null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The stack's to fix, like every command that reads a stack file: its message, exit 2.
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const checks = prerequisiteChecks(dockerHost, machineAccelerationProbes(), microvms);
  const results = await Promise.all(checks.map(async (check) => ({ check, outcome: await check.run() })));
  const { lines, missingRequired } = verdict(results);
  console.log(`OptiVolt lab prerequisites${stack ? ` (stack ${stack})` : ""}:`);
  console.log(lines.join("\n"));
  process.exitCode = missingRequired.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
