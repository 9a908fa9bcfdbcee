// `npm run vm -- up|down NAME [--stack S] [--clean]`: one CLI for the lab's QEMU guests, running the
// Pulumi program's own command lines without Pulumi. NAME `unikernel` is `npm run unikernel`
// (scripts/unikernel.ts); a micro-VM variant (`isolation: microvm` in the stack's variant table)
// runs components/microvm's steps: payload (the unikernel's initrd) → kernel → disk → QEMU start;
// down stops QEMU (power button first, so the app drains) and, with --clean, removes what up built.
import * as fs from "fs";
import * as path from "path";
import { Argument, Command, Option } from "commander";
import { ConfigError, LabConfig, loadStackConfig, MicrovmSpec } from "../model/config";
import { UNIKERNEL_VARIANT } from "../model/naming";
import { MicrovmPlan, microvmPlan } from "../components/microvm/buildPlan";
import { acceleratorFromStartOutput } from "../components/unikernel/source";
import { commandOnPath } from "../tooling/hostProbes";
import { commandLine, parseOrExitCode, USAGE_EXIT } from "../tooling/commandLine";
import { DOCKER_CLI_FIX, QEMU_FIX } from "./doctor";
import { PROCESS_IO, main as unikernelMain, runStep, StackProblem, StepError, UnikernelIo } from "./unikernel";

const FAILURE_EXIT = 1;

export type VmIo = UnikernelIo;

/** What a micro-VM's `up` needs on the PATH, each with the command that installs it. */
const MICROVM_TOOLS: { tool: string; fix: string }[] = [
  { tool: "qemu-system-x86_64", fix: QEMU_FIX },
  { tool: "mksquashfs", fix: "apt-get install squashfs-tools" },
  { tool: "dpkg-deb", fix: "apt-get install dpkg" },
  { tool: "cpio", fix: "apt-get install cpio" },
  { tool: "docker", fix: DOCKER_CLI_FIX },
];

/** The boot time qemu.sh printed (`... answered 7.9 s after QEMU started`). */
export function bootSecondsFromStartOutput(stdout: string): number | undefined {
  const match = /answered (\d+(?:\.\d+)?) s after QEMU started/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/** Removes `dir` and then each parent up to (not including) `stop` while it is empty. */
function removeEmptyParents(dir: string, stop: string): void {
  for (let current = dir; current !== stop && current.startsWith(stop); current = path.dirname(current)) {
    if (!fs.existsSync(current)) continue;
    if (fs.readdirSync(current).length > 0) return;
    fs.rmdirSync(current);
  }
}

async function microvmUp(config: LabConfig, name: string, spec: MicrovmSpec, plan: MicrovmPlan, io: VmIo): Promise<void> {
  const root = io.projectDir;
  const { layout } = plan;
  // The unikernel's initrd step, run as the unikernel's own: one payload for both guests.
  await runStep("payload build (the unikernel's initrd, docker)", plan.payload.argv, io, plan.payload.cwd);
  await runStep("kernel build (dpkg-deb)", plan.kernel, io, root);
  await runStep("disk build (mksquashfs)", plan.disk, io, root);
  const forward = `${config.bindAddress}:${spec.hostPort}`;
  const started = await runStep(`QEMU start (forwarding ${forward})`, plan.start([forward]), io, root);
  const accel = acceleratorFromStartOutput(started) ?? "unknown";
  const boot = bootSecondsFromStartOutput(started);
  const pidFile = path.join(root, layout.pidFile);
  const pid = fs.readFileSync(pidFile, "utf8").trim();
  const url = `http://${config.endpointHost}:${spec.hostPort}`;
  io.out(
    `\nvm up: ${name} running at ${url}\n` +
      `  acceleration: ${accel}\n` +
      `  boot to first 200: ${boot === undefined ? "unknown" : `${boot} s`}\n` +
      `  QEMU pid: ${pid} (pid file ${pidFile})\n` +
      `  bench it: npm run bench -- --target ${name}=${url},cpus=${spec.cpus},memoryMb=${spec.memoryMb},pidFile=${pidFile},accel=${accel},isolation=microvm\n` +
      `  stop it:  npm run vm -- down ${name} --stack ${config.stackName} [--clean]\n`,
  );
}

async function microvmDown(plan: MicrovmPlan, clean: boolean, io: VmIo): Promise<void> {
  const root = io.projectDir;
  const { layout } = plan;
  const stopped = /stopped pid (\d+)/.exec(await runStep("QEMU stop", plan.stop, io, root));
  const found = stopped ? `stopped QEMU (pid ${stopped[1]})` : "no QEMU was running";
  const microvmDir = path.join(root, "microvm");
  removeEmptyParents(path.join(root, layout.runDir), microvmDir);
  if (!clean) {
    io.out(`\nvm down: ${found}; the kernel and disk stay for the next up (--clean removes them)\n`);
    return;
  }
  for (const file of [layout.kernelDir, layout.disk, `${layout.disk}.key`]) fs.rmSync(path.join(root, file), { recursive: true, force: true });
  removeEmptyParents(path.join(root, path.dirname(layout.disk)), microvmDir);
  io.out(`\nvm down: ${found}; removed the kernel and disk (the payload is the unikernel's: npm run unikernel -- down --clean removes it)\n`);
}

type Action = "up" | "down";

/** Loads the stack, finds the guest, runs the action; every expected failure becomes its one message and exit code. */
async function runGuest(action: Action, name: string, opts: { stack: string; clean?: boolean }, io: VmIo): Promise<number> {
  if (name === UNIKERNEL_VARIANT) return unikernelMain([action, "--stack", opts.stack, ...(opts.clean ? ["--clean"] : [])], io);
  if (opts.clean && action === "up") {
    io.err("vm: --clean goes with down (it removes what up built)\n");
    return USAGE_EXIT;
  }
  let config: LabConfig;
  try {
    config = loadStackConfig(opts.stack, io.projectDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`${error.message}\n`);
    return USAGE_EXIT;
  }
  const spec = config.microvms[name];
  if (spec === undefined) {
    const names = [...Object.keys(config.microvms), UNIKERNEL_VARIANT];
    io.err(`vm: the ${config.stackName} stack has no guest named ${name}; use one of ${names.join(", ")}\n`);
    return USAGE_EXIT;
  }
  if (action === "up") {
    const missing = MICROVM_TOOLS.filter(({ tool }) => !commandOnPath(tool, io.env.PATH));
    if (missing.length > 0) {
      io.err(`vm up: missing on the PATH, nothing was started:\n${missing.map(({ tool, fix }) => `  ${tool}: ${fix}`).join("\n")}\n`);
      return FAILURE_EXIT;
    }
  }
  const plan = microvmPlan(config.stackName, name, spec, config.images, io.projectDir);
  io.out(`vm ${action}: ${name} of stack ${config.stackName}${action === "up" ? ` (${spec.cpus} vCPU, ${spec.memoryMb} MiB, accel asked ${spec.accel})` : ""}\n`);
  try {
    if (action === "up") await microvmUp(config, name, spec, plan, io);
    else await microvmDown(plan, opts.clean === true, io);
    return 0;
  } catch (error) {
    if (!(error instanceof StepError || error instanceof StackProblem)) throw error;
    io.err(`\nvm ${action}: ${error.message}.\n`);
    return error instanceof StackProblem ? USAGE_EXIT : FAILURE_EXIT;
  }
}

function cli(io: VmIo): Command {
  return commandLine("vm", { output: io, helpHint: "(run `npm run vm -- --help` for usage)" })
    .description("Build and run one of the lab's QEMU guests (a micro-VM variant or the unikernel), or stop it: the Pulumi program's steps, without Pulumi.")
    .addArgument(new Argument("<action>", "up: build and start; down: stop").choices(["up", "down"]))
    .addArgument(new Argument("<name>", `a micro-VM variant of the stack (isolation: microvm) or ${UNIKERNEL_VARIANT}`))
    .addOption(new Option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config to use").default("dev"))
    .addOption(new Option("--clean", "with down: also remove what up built"))
    .helpOption("-h, --help", "show this help");
}

/** The whole CLI: returns the exit code (0 done, 1 a missing tool or a failed step, 2 bad usage or config). */
export async function main(argv: string[], io: VmIo = PROCESS_IO): Promise<number> {
  const program = cli(io);
  const exitCode = parseOrExitCode(program, argv);
  if (exitCode !== null) return exitCode;
  const [action, name] = program.args as [Action, string];
  return runGuest(action, name, program.opts<{ stack: string; clean?: boolean }>(), io);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
