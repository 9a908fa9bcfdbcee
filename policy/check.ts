// `npm run policy:check -- --stack dev`: the real program under pulumi mocks with that stack's
// config, every policy of the pack applied to the result, violations printed like the CLI does.
import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError } from "commander";
import { PolicyPackConfig } from "@pulumi/policy";
import { ConfigError } from "../components/config";
import { PROJECT_NAME, runLabUnderMocks } from "../tests/support/mockedLab";
import { Analysis, analyze } from "./offline/engine";
import { analyzedResources } from "./offline/fromMocks";
import { exitCodeOf, formatAnalysis } from "./offline/report";
import { policies, POLICY_PACK_NAME } from "./policies";

const USAGE_EXIT = 2;

export interface CheckOptions {
  stack: string;
  /** Policy pack config, the same JSON `pulumi preview --policy-pack-config` takes. */
  config?: PolicyPackConfig;
}

export function packLabel(): string {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "package.json"), "utf8")) as { version: string };
  return `${POLICY_PACK_NAME}@v${version}`;
}

/** Runs the program of `options.stack` under mocks, as a preview, and applies every policy. */
export async function checkStack(options: CheckOptions): Promise<Analysis> {
  const run = await runLabUnderMocks(options.stack, {}, { program: "index", preview: true });
  return analyze(policies, analyzedResources(run.resources, options.stack, PROJECT_NAME), { config: options.config });
}

function readPackConfig(file: string): PolicyPackConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`cannot read the policy config file ${file}`);
  }
  try {
    return JSON.parse(text) as PolicyPackConfig;
  } catch (error) {
    throw new UsageError(`${file} is not JSON (${(error as Error).message}); write it as {"policy-name": {"key": value}}`);
  }
}

class UsageError extends Error {}

function cli(): Command {
  return new Command("policy:check")
    .description("Apply the OptiVolt policy pack to a stack's program, offline, under pulumi mocks.")
    .requiredOption("-s, --stack <name>", "stack whose Pulumi.<name>.yaml config the program runs with (dev, ci, ...)")
    .option("-c, --config <file>", "policy pack config JSON, as for pulumi preview --policy-pack-config")
    .helpOption("-h, --help", "show this help")
    .showHelpAfterError("(run `npm run policy:check -- --help` for usage)")
    .exitOverride()
    .allowExcessArguments(false);
}

async function main(argv: string[]): Promise<number> {
  const program = cli();
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    // Commander has already printed the problem (or the help) and the usage hint.
    return error instanceof CommanderError && error.exitCode === 0 ? 0 : USAGE_EXIT;
  }
  const opts = program.opts<{ stack: string; config?: string }>();
  try {
    const analysis = await checkStack({ stack: opts.stack, config: opts.config === undefined ? undefined : readPackConfig(opts.config) });
    console.log(formatAnalysis(analysis, `${packLabel()}, stack ${opts.stack}, offline under mocks`));
    return exitCodeOf(analysis);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(`policy:check: ${error.message}`);
      return USAGE_EXIT;
    }
    if (error instanceof Error && error.name === "RunError") {
      console.error(`policy:check: the program failed under mocks: ${error.message}`);
      return USAGE_EXIT;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
