/** Bad command line: the CLI prints the message and the usage, and exits 2 (one class for every CLI, in tooling/). */
export { UsageError } from "../tooling/commandLine";

/** A problem the user must fix (unreadable stack outputs, no engine...): printed as is, exit 1. */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BenchError";
  }
}
