// `npm run policy:check -- --stack dev`: the real program under pulumi mocks with that stack's
// config, every policy of the pack applied to the result, violations printed like the CLI does.
import * as fs from "fs";
import { Command } from "commander";
import { PolicyPackConfig } from "@pulumi/policy";
import { ConfigError, parseStackEntries } from "../model/config";
import { PROJECT_NAME, runLabUnderMocks, stackEntries } from "./offline/mockedLab";
import { commandLine, parseOrExitCode, USAGE_EXIT } from "../tooling/commandLine";
import { Analysis, analyze } from "./offline/engine";
import { analyzedResources, MockedResource } from "./offline/fromMocks";
import { packLabel } from "./offline/pack";
import { exitCodeOf, formatAnalysis } from "./offline/report";
import { policies } from "./policies";


export interface CheckOptions {
  stack: string;
  /** Policy pack config, the same JSON `pulumi preview --policy-pack-config` takes. */
  config?: PolicyPackConfig;
  /** Stack config entries to override (`"optivolt:bindAddress": "0.0.0.0"`), for what-if checks. */
  overrides?: Record<string, unknown>;
}

/** Applies every policy of the pack to resources recorded under mocks for `stack`. */
export function analyzeRecorded(resources: readonly MockedResource[], stack: string, config?: PolicyPackConfig): Promise<Analysis> {
  return analyze(policies, analyzedResources(resources, stack, PROJECT_NAME), { config });
}

/** Runs the program of `options.stack` under mocks, as a preview, and applies every policy. */
export async function checkStack(options: CheckOptions): Promise<Analysis> {
  // Bad config is the user's to fix, not a crash: validate it first (throws a ConfigError), since a
  // program failing under mocks leaves rejections behind that end the process with a stack trace.
  parseStackEntries(stackEntries(options.stack, options.overrides), options.stack);
  const run = await runLabUnderMocks(options.stack, options.overrides ?? {}, { program: "index", preview: true });
  return analyzeRecorded(run.resources, options.stack, options.config);
}

function readPackConfig(file: string): PolicyPackConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`cannot read the policy config file ${file}`);
  }
  let config: PolicyPackConfig;
  try {
    config = JSON.parse(text) as PolicyPackConfig;
  } catch (error) {
    throw new UsageError(`${file} is not JSON (${(error as Error).message}); write it as {"policy-name": {"key": value}}`);
  }
  const known = policies.map((p) => p.name);
  const unknown = Object.keys(config).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`${file} configures unknown policies (${unknown.join(", ")}); the pack has ${known.join(", ")}`);
  return config;
}

class UsageError extends Error {}

/** Where the CLI writes; tests capture it. */
export interface CheckOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_OUTPUT: CheckOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function cli(io: CheckOutput): Command {
  return commandLine("policy:check", { output: io, helpHint: "(run `npm run policy:check -- --help` for usage)" })
    .description("Apply the OptiVolt policy pack to a stack's program, offline, under pulumi mocks.")
    .requiredOption("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config the program runs with (dev, ci, ...)")
    .option("-c, --config <file>", "policy pack config JSON, as for pulumi preview --policy-pack-config")
    .helpOption("-h, --help", "show this help");
}

/** The whole CLI: returns the exit code (0 clean or advisory only, 1 mandatory violation, 2 bad usage). */
export async function main(argv: string[], io: CheckOutput = PROCESS_OUTPUT): Promise<number> {
  const program = cli(io);
  const exitCode = parseOrExitCode(program, argv);
  if (exitCode !== null) return exitCode;
  const opts = program.opts<{ stack: string; config?: string }>();
  try {
    const analysis = await checkStack({ stack: opts.stack, config: opts.config === undefined ? undefined : readPackConfig(opts.config) });
    io.out(`${formatAnalysis(analysis, `${packLabel()}, stack ${opts.stack}, offline under mocks`)}\n`);
    return exitCodeOf(analysis);
  } catch (error) {
    if (error instanceof ConfigError) {
      // As `dashboards:render` prints it: the message lists one line per bad key with the fix.
      io.err(`${error.message}\n`);
      return USAGE_EXIT;
    }
    if (error instanceof UsageError) {
      io.err(`policy:check: ${error.message}\n`);
      return USAGE_EXIT;
    }
    if (error instanceof Error && error.name === "RunError") {
      io.err(`policy:check: the program failed under mocks: ${error.message}\n`);
      return USAGE_EXIT;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
