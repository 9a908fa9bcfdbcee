/** The house's commander set-up and parse: programs throw instead of exiting, and one parse rule for every CLI. */
import { Command, CommanderError } from "commander";

/** Exit code of a bad command line or config. */
export const USAGE_EXIT = 2;

/** Bad command line: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Where a program writes its help and errors; "silent": nowhere, the caller prints them. */
export type CommandOutput = { out: (text: string) => void; err: (text: string) => void } | "silent";

/**
 * A commander program that throws a CommanderError instead of exiting and refuses excess arguments;
 * `output` redirects its help and errors, `helpHint` follows an error.
 */
export function commandLine(name: string, options: { output?: CommandOutput; helpHint?: string } = {}): Command {
  const program = new Command(name).allowExcessArguments(false).exitOverride();
  if (options.output === "silent") program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  else if (options.output !== undefined) program.configureOutput({ writeOut: options.output.out, writeErr: options.output.err });
  if (options.helpHint !== undefined) program.showHelpAfterError(options.helpHint);
  return program;
}

/** Parses argv (without node and script) into a silent `program`: "help" for --help, a UsageError for anything bad; `what` prefixes its message. */
export function parseCommandLine(program: Command, argv: readonly string[], what: (message: string) => string = (m) => m): "help" | "parsed" {
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") return "help";
      throw new UsageError(what(err.message.replace(/^error: /, "")));
    }
    throw err;
  }
  return "parsed";
}

/**
 * Parses argv (without node and script) into a program that writes its own help and errors:
 * null to go on, else the exit code (0 after --help, `usageExit` after a bad command line).
 */
export function parseOrExitCode(program: Command, argv: readonly string[], usageExit = USAGE_EXIT): number | null {
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    // Commander has already written the problem (or the help) and the usage hint.
    return error instanceof CommanderError && error.exitCode === 0 ? 0 : usageExit;
  }
  return null;
}
