// `npm run vm -- up|down NAME [--stack S] [--clean]`: one CLI for the lab's QEMU guests, running the
// Pulumi program's own command lines without Pulumi. NAME `unikernel` is `npm run unikernel`
// (scripts/unikernel.ts); a micro-VM variant (`isolation: microvm` in the stack's variant table)
// runs components/microvm's steps: payload (the unikernel's initrd) → kernel → disk → QEMU start;
// down stops QEMU (power button first, so the app drains) and, with --clean, removes what up built.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Argument, Command, CommanderError, Option } from "commander";
import { ConfigError, LabConfig, loadStackConfig, MicrovmSpec } from "../components/config";
import {
  diskBuildCommand,
  diskDeleteCommand,
  kernelBuildCommand,
  kernelDeleteCommand,
  microvmLayout,
  MicrovmLayout,
  microvmStartCommand,
  microvmStopCommand,
  microvmTriggers,
  payloadTrigger,
} from "../components/microvm/commands";
import { commandOnPath } from "../components/unikernel/probes";
import { acceleratorFromStartOutput, initrdBuildCommand } from "../components/unikernel/source";
import { initrdTags } from "../components/unikernel/sourceBuild";
import { UNIKERNEL_VARIANT } from "../components/naming";
import { DOCKER_CLI_FIX, QEMU_FIX } from "./doctor";
import { main as unikernelMain, UnikernelIo } from "./unikernel";

const PROJECT_DIR = path.resolve(__dirname, "..");
const USAGE_EXIT = 2;
const FAILURE_EXIT = 1;

export type VmIo = UnikernelIo;

const PROCESS_IO: VmIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  projectDir: PROJECT_DIR,
};

/** What a micro-VM's `up` needs on the PATH, each with the command that installs it. */
const MICROVM_TOOLS: { tool: string; fix: string }[] = [
  { tool: "qemu-system-x86_64", fix: QEMU_FIX },
  { tool: "mksquashfs", fix: "apt-get install squashfs-tools" },
  { tool: "dpkg-deb", fix: "apt-get install dpkg" },
  { tool: "cpio", fix: "apt-get install cpio" },
  { tool: "docker", fix: DOCKER_CLI_FIX },
];

class StepError extends Error {}

/** Runs one command line as the command provider does (`/bin/sh -c` in DIR), streaming its output; resolves with its stdout. */
function runStep(label: string, commandLine: string, cwd: string, io: VmIo): Promise<string> {
  io.out(`\n== ${label}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", commandLine], { cwd, env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      io.out(chunk.toString());
    });
    child.stderr.on("data", (chunk: Buffer) => io.err(chunk.toString()));
    child.on("error", (error) => reject(new StepError(`${label} could not start: ${error.message}`)));
    child.on("close", (code, signal) => (code === 0 ? resolve(stdout) : reject(new StepError(`${label} failed (${signal ?? `exit ${code}`}); its output is above`))));
  });
}

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

async function microvmUp(config: LabConfig, name: string, spec: MicrovmSpec, layout: MicrovmLayout, io: VmIo): Promise<void> {
  const triggers = microvmTriggers(spec, config.images, io.projectDir);
  const tags = initrdTags(config.stackName, payloadTrigger(config.images, io.projectDir));
  // The unikernel's initrd step, run from unikernel/ as the unikernel's own: one payload for both guests.
  await runStep("payload build (the unikernel's initrd, docker)", initrdBuildCommand(config.images, tags, { initrd: path.posix.join("..", layout.payload) }), path.join(io.projectDir, "unikernel"), io);
  await runStep("kernel build (dpkg-deb)", kernelBuildCommand(spec, layout, triggers.kernel), io.projectDir, io);
  await runStep("disk build (mksquashfs)", diskBuildCommand(layout, triggers.disk), io.projectDir, io);
  const forward = `${config.bindAddress}:${spec.hostPort}`;
  const started = await runStep(`QEMU start (forwarding ${forward})`, microvmStartCommand(spec, { layout, forwards: [forward], variant: name }), io.projectDir, io);
  const accel = acceleratorFromStartOutput(started) ?? "unknown";
  const boot = bootSecondsFromStartOutput(started);
  const pid = fs.readFileSync(path.join(io.projectDir, layout.pidFile), "utf8").trim();
  const url = `http://${config.endpointHost}:${spec.hostPort}`;
  const pidFile = path.join(io.projectDir, layout.pidFile);
  io.out(
    `\nvm up: ${name} running at ${url}\n` +
      `  acceleration: ${accel}\n` +
      `  boot to first 200: ${boot === undefined ? "unknown" : `${boot} s`}\n` +
      `  QEMU pid: ${pid} (pid file ${pidFile})\n` +
      `  bench it: npm run bench -- --target ${name}=${url},cpus=${spec.cpus},memoryMb=${spec.memoryMb},pidFile=${pidFile},accel=${accel}\n` +
      `  stop it:  npm run vm -- down ${name} --stack ${config.stackName} [--clean]\n`,
  );
}

async function microvmDown(layout: MicrovmLayout, clean: boolean, io: VmIo): Promise<void> {
  await runStep("QEMU stop", microvmStopCommand(layout), io.projectDir, io);
  const root = path.join(io.projectDir, "microvm");
  removeEmptyParents(path.join(io.projectDir, layout.runDir), root);
  if (!clean) {
    io.out(`\nvm down: stopped; the kernel and disk stay for the next up (--clean removes them)\n`);
    return;
  }
  await runStep("kernel and disk removal", `${kernelDeleteCommand(layout)} && ${diskDeleteCommand(layout)}`, io.projectDir, io);
  removeEmptyParents(path.join(io.projectDir, path.dirname(layout.disk)), root);
  io.out(`\nvm down: stopped, and removed the kernel and disk (the payload is the unikernel's: npm run unikernel -- down --clean removes it)\n`);
}

function cli(io: VmIo): Command {
  return new Command("vm")
    .description("Build and run one of the lab's QEMU guests (a micro-VM variant or the unikernel), or stop it: the Pulumi program's steps, without Pulumi.")
    .addArgument(new Argument("<action>", "up: build and start; down: stop").choices(["up", "down"]))
    .addArgument(new Argument("<name>", `a micro-VM variant of the stack (isolation: microvm) or ${UNIKERNEL_VARIANT}`))
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config to use", "dev")
    .addOption(new Option("--clean", "with down: also remove what up built"))
    .helpOption("-h, --help", "show this help")
    .showHelpAfterError("(run `npm run vm -- --help` for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .allowExcessArguments(false);
}

/** The whole CLI: returns the exit code (0 done, 1 a missing tool or a failed step, 2 bad usage or config). */
export async function main(argv: string[], io: VmIo = PROCESS_IO): Promise<number> {
  const program = cli(io);
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    return error instanceof CommanderError && error.exitCode === 0 ? 0 : USAGE_EXIT;
  }
  const [action, name] = program.args as ["up" | "down", string];
  const opts = program.opts<{ stack: string; clean?: boolean }>();
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
  const layout = microvmLayout(config.stackName, name);
  io.out(`vm ${action}: ${name} of stack ${config.stackName}${action === "up" ? ` (${spec.cpus} vCPU, ${spec.memoryMb} MiB, accel asked ${spec.accel})` : ""}\n`);
  try {
    if (action === "up") await microvmUp(config, name, spec, layout, io);
    else await microvmDown(layout, opts.clean === true, io);
    return 0;
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    io.err(`\nvm ${action}: ${error.message}.\n`);
    return FAILURE_EXIT;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
