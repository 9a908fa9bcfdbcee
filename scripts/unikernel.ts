// `npm run unikernel -- up|down [--stack NAME] [--clean]`: the source builder's steps (kernel build,
// initrd build, QEMU start; QEMU stop and the deletes) outside Pulumi, for users without the
// Pulumi CLI and for the tests. The steps are the Pulumi program's own (components/unikernel/source.ts),
// run from the same unikernel/ folder as argument lists: no value of the stack reaches a shell.
import { execFile, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Command, Option } from "commander";
import { ConfigError, LabConfig, loadStackConfig } from "../model/config";
import { missingArchiveProblems, UNIKERNEL_VARIANT, UNIKERNEL_VCPUS } from "../components/unikernel";
import {
  acceleratorFromStartOutput,
  InitrdTags,
  initrdBuildArgv,
  isUrl,
  kernelBuildArgv,
  qemuStartArgv,
  qemuStopArgv,
  SourceLayout,
  sourceLayout,
} from "../components/unikernel/source";
import { commandOnPath } from "../tooling/hostProbes";
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
  /** Whether an archive URL answers (a HEAD request); up asks it before a build that would download. */
  reachable: (url: string) => Promise<boolean>;
}

/** A HEAD request that answers within 5 s, whatever its status (GitHub answers a 302). */
async function headAnswers(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

/** The real terminal, environment, project and network (the CLIs' default io). */
export const PROCESS_IO: UnikernelIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  projectDir: PROJECT_DIR,
  reachable: headAnswers,
};

/** The initrd step's images, as the Pulumi program names them (stack and sources in the tag). */
function currentInitrdTags(config: LabConfig, projectDir: string): InitrdTags {
  return initrdTags(config.stackName, sourceTriggers(config.unikernel, config.images, projectDir).initrd);
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

export class StepError extends Error {}
/** The stack config's to fix: exit 2 like any config error. */
export class StackProblem extends Error {}

/** Runs one step's argument list in `cwd` (unikernel/ unless said; no shell), streaming its output; resolves with its stdout. */
export function runStep(label: string, argv: readonly string[], io: Pick<UnikernelIo, "out" | "err" | "env">, cwd = UNIKERNEL_DIR): Promise<string> {
  io.out(`\n== ${label}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      io.out(chunk.toString());
    });
    child.stderr.on("data", (chunk: Buffer) => io.err(chunk.toString()));
    child.on("error", (error) => reject(new StepError(`${label} could not start: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else if (code === USAGE_EXIT) reject(new StackProblem(`${label} refused the stack's values (exit 2); its message is above`));
      else reject(new StepError(`${label} failed (${signal ?? `exit ${code}`}); its output is above`));
    });
  });
}

/** `docker ARGS`' trimmed stdout, or "" when it fails. */
function docker(args: readonly string[], io: UnikernelIo): Promise<string> {
  return new Promise((resolve) => execFile("docker", args, { env: io.env }, (error, stdout) => resolve(error ? "" : stdout.trim())));
}

function header(action: string, config: LabConfig): string {
  const unikernel = config.unikernel;
  const builder =
    unikernel.builder === "kraft" ? " (the stack says builder kraft; this command always builds from source, with make and QEMU)" : "";
  const guest = action === "up" ? `  guest: ${unikernel.memoryMi} MiB, ${UNIKERNEL_VCPUS} vCPU, accel asked ${unikernel.accel}\n` : "";
  return `unikernel ${action}: stack ${config.stackName}, source builder${builder}\n${guest}`;
}

/** What a running guest was started from: the start line and the build triggers; `up` with the same is a no-op. */
function runInputs(config: LabConfig, startArgv: readonly string[], projectDir: string): string {
  const triggers = sourceTriggers(config.unikernel, config.images, projectDir);
  return createHash("sha256").update([...startArgv, triggers.kernel, triggers.initrd, triggers.run].join("\0")).digest("hex");
}

/** QEMU's pid when the stack's pid file names a live QEMU (a stale file may name another process). */
function runningQemuPid(layout: SourceLayout): number | undefined {
  try {
    const pid = Number(fs.readFileSync(layout.pidFile, "utf8").trim());
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").includes("qemu") ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Files next to the build and the run that record what this checkout made. */
function records(layout: SourceLayout) {
  return { inputs: path.join(layout.runDir, "inputs.sha256"), images: path.join(path.dirname(layout.kernelDir), "images.built") };
}

/** The initrd's two images as `tag id` lines, so `down --clean` removes what this checkout built and nothing else. */
async function recordImages(tags: InitrdTags, layout: SourceLayout, io: UnikernelIo): Promise<void> {
  const file = records(layout).images;
  const known = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  for (const tag of [tags.appTag, tags.payloadTag]) {
    const id = await docker(["image", "inspect", "--format", "{{.Id}}", tag], io);
    if (id !== "" && !known.includes(`${tag} ${id}`)) known.push(`${tag} ${id}`);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, known.map((line) => `${line}\n`).join(""));
}

/** A stack whose archives are URLs cannot build offline; say so before minutes of work, with the stack that can. */
async function checkArchivesReachable(config: LabConfig, layout: SourceLayout, io: UnikernelIo): Promise<void> {
  if (fs.existsSync(layout.kernel)) return;
  const url = Object.values(config.unikernel.source.archives).find(isUrl);
  if (url === undefined || (await io.reachable(url))) return;
  throw new StepError(
    `cannot reach ${new URL(url).host} to download the Unikraft archives of stack ${config.stackName} (${url}); offline, run ` +
      "`npm run unikernel -- up --stack ci` (its archives are vendored), or point unikernel.source.archives at local copies",
  );
}

async function up(config: LabConfig, layout: SourceLayout, io: UnikernelIo): Promise<void> {
  const unikernel = config.unikernel;
  const forward = `${config.bindAddress}:${unikernel.hostPort}`;
  const url = `http://${config.endpointHost}:${unikernel.hostPort}`;
  const startArgv = qemuStartArgv(unikernel, { layout, forwards: [forward], variant: UNIKERNEL_VARIANT });
  const inputs = runInputs(config, startArgv, io.projectDir);
  const pid = runningQemuPid(layout);
  if (pid !== undefined) {
    const recorded = fs.existsSync(records(layout).inputs) ? fs.readFileSync(records(layout).inputs, "utf8").trim() : "";
    if (recorded !== inputs) {
      throw new StepError(`QEMU (pid ${pid}) already runs stack ${config.stackName} from other inputs (config or sources changed); run \`npm run unikernel -- down --stack ${config.stackName}\` first`);
    }
    io.out(`\nunikernel up: already running at ${url} (QEMU pid ${pid}, same inputs); nothing to do\n`);
    return;
  }
  await checkArchivesReachable(config, layout, io);
  await runStep("kernel build (make)", kernelBuildArgv(unikernel.source, layout, io.projectDir), io);
  const tags = currentInitrdTags(config, io.projectDir);
  await runStep("initrd build (docker)", initrdBuildArgv(config.images, tags, layout), io);
  await recordImages(tags, layout, io);
  const started = await runStep(`QEMU start (forwarding ${forward})`, startArgv, io);
  fs.mkdirSync(layout.runDir, { recursive: true });
  fs.writeFileSync(records(layout).inputs, `${inputs}\n`);
  const accel = acceleratorFromStartOutput(started) ?? "unknown";
  const target = `${UNIKERNEL_VARIANT}=${url},cpus=${UNIKERNEL_VCPUS},memoryMb=${unikernel.memoryMi},pidFile=${layout.pidFile},accel=${accel},isolation=unikernel`;
  io.out(
    `\nunikernel up: running at ${url}\n` +
      `  acceleration: ${accel}\n` +
      `  QEMU pid file: ${layout.pidFile}\n` +
      `  bench it: npm run bench -- --target ${target}\n` +
      `  stop it:  npm run unikernel -- down --stack ${config.stackName} [--clean]\n`,
  );
}

/** Removes the images this checkout recorded, each only while its tag still names the image built here. */
async function removeRecordedImages(layout: SourceLayout, io: UnikernelIo): Promise<string[]> {
  const file = records(layout).images;
  if (!fs.existsSync(file)) return [];
  const removed: string[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const [tag, id] = line.split(" ");
    if ((await docker(["image", "inspect", "--format", "{{.Id}}", tag], io)) !== id) continue;
    await docker(["image", "rm", "--force", tag], io);
    removed.push(tag);
  }
  fs.rmSync(file, { force: true });
  return removed;
}

async function down(config: LabConfig, layout: SourceLayout, clean: boolean, io: UnikernelIo): Promise<void> {
  const stopped = /stopped pid (\d+)/.exec(await runStep("QEMU stop", qemuStopArgv(layout), io));
  const found = stopped ? `stopped QEMU (pid ${stopped[1]})` : `no QEMU was running for stack ${config.stackName}`;
  if (!clean) {
    io.out(`\nunikernel down: ${found}; the kernel and initrd stay for the next up (--clean removes them)\n`);
    return;
  }
  const buildDir = path.dirname(layout.kernelDir);
  const built = [layout.kernelDir, layout.initrd].filter((file) => fs.existsSync(file));
  const images = await removeRecordedImages(layout, io);
  for (const file of built) fs.rmSync(file, { recursive: true, force: true });
  // The stack's build folder held only those; an empty one would be all that is left.
  if (fs.existsSync(buildDir) && fs.readdirSync(buildDir).length === 0) fs.rmdirSync(buildDir);
  const removed = [...built, ...images];
  io.out(
    `\nunikernel down: ${found}; ${removed.length === 0 ? "nothing of this checkout to remove" : `removed ${removed.join(", ")}`}` +
      " (images another checkout built stay)\n",
  );
}

type Action = (config: LabConfig, layout: SourceLayout) => Promise<void>;

/** Loads the stack, runs the action, and turns every expected failure into its one message and exit code. */
async function runAction(name: "up" | "down", stack: string, io: UnikernelIo, action: Action): Promise<number> {
  let config: LabConfig;
  try {
    config = loadStackConfig(stack, io.projectDir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`${error.message}\n`);
    return USAGE_EXIT;
  }
  if (name === "up") {
    const missing = missingToolsMessage(io.env);
    if (missing !== undefined) {
      io.err(missing);
      return FAILURE_EXIT;
    }
    const absent = missingArchiveProblems(config.unikernel.source, io.projectDir, (file) => fs.existsSync(file));
    if (absent.length > 0) {
      io.err(`unikernel up: ${absent.join("\nunikernel up: ")}\n`);
      return USAGE_EXIT;
    }
  }
  const layout = sourceLayout(io.projectDir, config.stackName);
  io.out(header(name, config));
  try {
    await action(config, layout);
    return 0;
  } catch (error) {
    if (!(error instanceof StepError || error instanceof StackProblem)) throw error;
    io.err(`\nunikernel ${name}: ${error.message}.\n`);
    return error instanceof StackProblem ? USAGE_EXIT : FAILURE_EXIT;
  }
}

function cli(io: UnikernelIo, done: (run: Promise<number>) => void): Command {
  // Subcommands inherit the house set-up (output, exitOverride, the help hint, no excess arguments).
  const configure = (command: Command) => command.helpOption("-h, --help", "show this help");
  const stackOption = () => new Option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config to use").default("dev");
  const program = configure(commandLine("unikernel", { output: io, helpHint: "(run `npm run unikernel -- --help` for usage)" }))
    .description("Build the unikernel from source and run it under QEMU, or stop it: the Pulumi program's steps, without Pulumi.")
    .addHelpCommand(false);
  configure(program.command("up"))
    .description("build the kernel and initrd (cached when unchanged) and start QEMU; already running with the same inputs: print its URL")
    .addOption(stackOption())
    .action((opts: { stack: string }) => done(runAction("up", opts.stack, io, (config, layout) => up(config, layout, io))));
  configure(program.command("down"))
    .description("stop QEMU; --clean also removes what this checkout built for the stack")
    .addOption(stackOption())
    .addOption(new Option("--clean", "also remove the kernel, the initrd and the initrd's images this checkout built"))
    .action((opts: { stack: string; clean?: boolean }) =>
      done(runAction("down", opts.stack, io, (config, layout) => down(config, layout, opts.clean === true, io))),
    );
  return program;
}

/** The whole CLI: returns the exit code (0 done, 1 a missing tool or a failed step, 2 bad usage or config). */
export async function main(argv: string[], io: UnikernelIo = PROCESS_IO): Promise<number> {
  let run: Promise<number> | undefined;
  const program = cli(io, (started) => (run = started));
  const exitCode = parseOrExitCode(program, argv);
  if (exitCode !== null) return exitCode;
  if (run === undefined) {
    io.err(program.helpInformation());
    return USAGE_EXIT;
  }
  return run;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
