// `npm run unikernel -- up|down [--stack NAME] [--clean]`: the source builder's steps (kernel build,
// initrd build, QEMU start; QEMU stop and the deletes) outside Pulumi, for users without the
// Pulumi CLI and for the tests. The command lines are the Pulumi program's own
// (components/unikernel/source.ts), run from the same unikernel/ folder.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Argument, Command, Option } from "commander";
import { ConfigError, LabConfig, loadStackConfig } from "../components/config";
import { UNIKERNEL_VARIANT, UNIKERNEL_VCPUS } from "../components/unikernel";
import {
  acceleratorFromStartOutput,
  InitrdTags,
  initrdBuildCommand,
  initrdDeleteCommand,
  kernelBuildCommand,
  kernelDeleteCommand,
  qemuStartCommand,
  qemuStopCommand,
  SourceLayout,
  sourceLayout,
} from "../components/unikernel/source";
import { commandOnPath } from "../components/unikernel/probes";
import { initrdTags, sourceTriggers } from "../components/unikernel/sourceBuild";
import { DOCKER_CLI_FIX, QEMU_FIX, UNIKERNEL_BUILD_TOOLS, UNIKERNEL_BUILD_TOOLS_FIX } from "./doctor";
import { commandLine, parseOrExitCode, USAGE_EXIT } from "../tooling/commandLine";

const PROJECT_DIR = path.resolve(__dirname, "..");
/** Where the Pulumi program's command resources run the scripts from (`bash source/...`). */
const UNIKERNEL_DIR = path.join(PROJECT_DIR, "unikernel");
const FAILURE_EXIT = 1;

/** Where the CLI writes, and where it finds stacks and the tools; tests replace each. */
export interface UnikernelIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The environment the tools are looked up in and the steps run with. */
  env: NodeJS.ProcessEnv;
  /** Folder of `Pulumi.<stack>.yaml`, root of the build outputs and of relative archive paths. */
  projectDir: string;
}

const PROCESS_IO: UnikernelIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  projectDir: PROJECT_DIR,
};

/** The initrd step's images, as the Pulumi program names them (stack and sources in the tag). */
function currentInitrdTags(config: LabConfig, projectDir: string): InitrdTags {
  return initrdTags(config.stackName, sourceTriggers(config.unikernel, config.images, projectDir).initrd);
}

/** Removes every image of the stack's two initrd repositories, including builds of older sources. */
function allInitrdImagesDeleteCommand(tags: InitrdTags): string {
  const repositories = [tags.appTag, tags.payloadTag].map((tag) => `--filter reference=${tag.split(":")[0]}`).join(" ");
  return `for image in $(docker image ls --format '{{.Repository}}:{{.Tag}}' ${repositories}); do docker image rm --force "$image" >/dev/null; done`;
}

/** What `up` needs on the PATH, each with the command that installs it. */
function requiredTools(): { tool: string; fix: string }[] {
  return [
    { tool: "qemu-system-x86_64", fix: QEMU_FIX },
    ...UNIKERNEL_BUILD_TOOLS.map((tool) => ({ tool, fix: UNIKERNEL_BUILD_TOOLS_FIX })),
    { tool: "docker", fix: DOCKER_CLI_FIX },
  ];
}

/** One line per missing tool and its install command; the tools sharing a command share the line. */
export function missingToolsMessage(env: NodeJS.ProcessEnv): string | undefined {
  const missing = requiredTools().filter(({ tool }) => !commandOnPath(tool, env.PATH));
  if (missing.length === 0) return undefined;
  const byFix = new Map<string, string[]>();
  for (const { tool, fix } of missing) byFix.set(fix, [...(byFix.get(fix) ?? []), tool]);
  const lines = [...byFix].map(([fix, tools]) => `  ${tools.join(", ")}: ${fix}`);
  return `unikernel up: missing on the PATH, nothing was started:\n${lines.join("\n")}\n`;
}

class StepError extends Error {}

/** Runs one command line as the command provider does (`/bin/sh -c` in unikernel/), streaming its output; resolves with its stdout. */
function runStep(label: string, commandLine: string, io: UnikernelIo): Promise<string> {
  io.out(`\n== ${label}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", commandLine], { cwd: UNIKERNEL_DIR, env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      io.out(chunk.toString());
    });
    child.stderr.on("data", (chunk: Buffer) => io.err(chunk.toString()));
    child.on("error", (error) => reject(new StepError(`${label} could not start: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new StepError(`${label} failed (${signal ?? `exit ${code}`}); its output is above`));
    });
  });
}

function header(action: string, config: LabConfig): string {
  const unikernel = config.unikernel;
  const builder =
    unikernel.builder === "kraft" ? " (the stack says builder kraft; this command always builds from source, with make and QEMU)" : "";
  const guest = action === "up" ? `  guest: ${unikernel.memoryMi} MiB, ${UNIKERNEL_VCPUS} vCPU, accel asked ${unikernel.accel}\n` : "";
  return `unikernel ${action}: stack ${config.stackName}, source builder${builder}\n${guest}`;
}

async function up(config: LabConfig, layout: SourceLayout, io: UnikernelIo): Promise<void> {
  const unikernel = config.unikernel;
  const forward = `${config.bindAddress}:${unikernel.hostPort}`;
  await runStep("kernel build (make)", kernelBuildCommand(unikernel.source.archives, layout, io.projectDir), io);
  await runStep("initrd build (docker)", initrdBuildCommand(config.images, currentInitrdTags(config, io.projectDir), layout), io);
  const started = await runStep(
    `QEMU start (forwarding ${forward})`,
    qemuStartCommand(unikernel, { layout, forwards: [forward], variant: UNIKERNEL_VARIANT }),
    io,
  );
  const accel = acceleratorFromStartOutput(started) ?? "unknown";
  const url = `http://${config.endpointHost}:${unikernel.hostPort}`;
  const target = `${UNIKERNEL_VARIANT}=${url},cpus=${UNIKERNEL_VCPUS},memoryMb=${unikernel.memoryMi},pidFile=${layout.pidFile},accel=${accel}`;
  io.out(
    `\nunikernel up: running at ${url}\n` +
      `  acceleration: ${accel}\n` +
      `  QEMU pid file: ${layout.pidFile}\n` +
      `  bench it: npm run bench -- --target ${target}\n` +
      `  stop it:  npm run unikernel -- down --stack ${config.stackName} [--clean]\n`,
  );
}

async function down(config: LabConfig, layout: SourceLayout, clean: boolean, io: UnikernelIo): Promise<void> {
  await runStep("QEMU stop", qemuStopCommand(layout), io);
  if (!clean) {
    io.out(`\nunikernel down: stopped; the kernel and initrd stay for the next up (--clean removes them)\n`);
    return;
  }
  await runStep("kernel removal", kernelDeleteCommand(layout), io);
  const tags = currentInitrdTags(config, io.projectDir);
  await runStep("initrd removal (file and images)", `${initrdDeleteCommand(tags, layout)}; ${allInitrdImagesDeleteCommand(tags)}`, io);
  // The stack's build folder held only those two; an empty one would be all that is left.
  const buildDir = path.dirname(layout.kernelDir);
  if (fs.existsSync(buildDir) && fs.readdirSync(buildDir).length === 0) fs.rmdirSync(buildDir);
  io.out(`\nunikernel down: stopped, and removed ${buildDir} and the initrd's images\n`);
}

function cli(io: UnikernelIo): Command {
  return commandLine("unikernel", { output: io, helpHint: "(run `npm run unikernel -- --help` for usage)" })
    .description("Build the unikernel from source and run it under QEMU, or stop it: the Pulumi program's steps, without Pulumi.")
    .addArgument(new Argument("<action>", "up: build the kernel and initrd, start QEMU; down: stop QEMU").choices(["up", "down"]))
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config to use", "dev")
    .addOption(new Option("--clean", "with down: also remove the kernel, the initrd and the initrd's images"))
    .helpOption("-h, --help", "show this help");
}

/** The whole CLI: returns the exit code (0 done, 1 a missing tool or a failed step, 2 bad usage or config). */
export async function main(argv: string[], io: UnikernelIo = PROCESS_IO): Promise<number> {
  const program = cli(io);
  const exitCode = parseOrExitCode(program, argv);
  if (exitCode !== null) return exitCode;
  const action = program.args[0] as "up" | "down";
  const opts = program.opts<{ stack: string; clean?: boolean }>();
  if (opts.clean && action === "up") {
    io.err("unikernel: --clean goes with down (it removes what up built)\n");
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
  if (action === "up") {
    const missing = missingToolsMessage(io.env);
    if (missing !== undefined) {
      io.err(missing);
      return FAILURE_EXIT;
    }
  }
  const layout = sourceLayout(io.projectDir, config.stackName);
  io.out(header(action, config));
  try {
    if (action === "up") await up(config, layout, io);
    else await down(config, layout, opts.clean === true, io);
    return 0;
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    io.err(`\nunikernel ${action}: ${error.message}.\n`);
    return FAILURE_EXIT;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
