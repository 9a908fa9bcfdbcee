/**
 * `npm run bench -- ...`: exit 0 all measured, 1 a variant could not be measured or a fatal error,
 * 2 bad flags, 130 interrupted. `npm run bench -- compare OLD_DIR NEW_DIR`: exit 0, or 2 on bad input.
 */
import { HELP_HINT, parseArgs, usage } from "./args";
import { runBench } from "./runBench";
import { compareUsage, runCompare } from "../report/compare";
import { consoleSummary } from "../report/tables";
import { BenchError, UsageError } from "../errors";
import { createProgress } from "../session/progress";

/** The one error and one line pointing to --help, never the whole help. */
function usageError(err: UsageError, hint = HELP_HINT): number {
  process.stderr.write(`error: ${err.message}\n${hint}\n`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "compare") {
    try {
      const compared = await runCompare(argv.slice(1));
      if (compared === "help") {
        process.stdout.write(compareUsage());
        return 0;
      }
      const { text, file, chart, chartError } = compared;
      process.stdout.write(`${text}\nwritten to ${file}${chart === null ? "" : ` and ${chart}`}\n`);
      if (chartError !== null) process.stderr.write(`warning: the comparison chart could not be drawn: ${chartError}\n`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) return usageError(err, "Run `npm run bench -- compare --help` for its arguments.");
      throw err;
    }
  }
  let options;
  try {
    options = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError(err);
  }
  if (options === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const interrupt = new AbortController();
  const progress = createProgress();
  process.on("SIGINT", () => {
    if (interrupt.signal.aborted) process.exit(130);
    // Through the progress display, so the notice gets a line of its own above the bar.
    progress.note("interrupted: finishing the current run and writing what was measured, marked partial (Ctrl-C again to quit at once)");
    interrupt.abort();
  });
  const command = `npm run bench -- ${argv.join(" ")}`;
  try {
    const { results, files, exitCode } = await runBench(options, command, interrupt.signal, progress);
    process.stdout.write(consoleSummary(results));
    process.stdout.write(`\nresults: ${files.results}\nreport:  ${files.report}\ncharts:  ${files.charts.join(", ") || "none"}\n`);
    if (files.chartError !== null) process.stderr.write(`warning: charts could not be drawn: ${files.chartError}\n`);
    return exitCode;
  } catch (err) {
    progress.stop();
    if (err instanceof UsageError) return usageError(err);
    if (err instanceof BenchError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed unexpectedly: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
