/** Commander's parse with the bench's error rules: "help" for --help, a UsageError for anything bad (pure). */
import { Command, CommanderError } from "commander";
import { UsageError } from "../errors";

/** Parses argv (without node and script) into `program`; `what` prefixes a usage error's message. */
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
