/** `npm run bench -- ...`: exit 0 all measured, 1 a variant could not be measured or a fatal error, 2 bad flags, 130 interrupted. */
import { parseArgs, usage } from "./args";
import { runBench } from "./bench";
import { BenchError, UsageError } from "./errors";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${usage()}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const interrupt = new AbortController();
  process.on("SIGINT", () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write("\n[bench] interrupted: finishing the current run and writing what was measured (Ctrl-C again to quit at once)\n");
    interrupt.abort();
  });
  const command = `npm run bench -- ${argv.join(" ")}`;
  try {
    const { files, exitCode } = await runBench(options, command, interrupt.signal);
    process.stdout.write(`results: ${files.results}\nreport:  ${files.report}\ncharts:  ${files.charts.join(", ") || "none"}\n`);
    if (files.chartError !== null) process.stderr.write(`warning: charts could not be drawn: ${files.chartError}\n`);
    return exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${usage()}`);
      return 2;
    }
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
