/**
 * What the user sees while the bench runs: the plan header, then on a terminal one overall bar
 * with an ETA (cli-progress) and result lines above it; in a pipe or CI log, one line per run.
 */
import { MultiBar, Presets, SingleBar } from "cli-progress";
import { formatSeconds } from "../numbers/format";

export interface Progress {
  /** Printed once before the first run. */
  header(lines: readonly string[]): void;
  /** The overall bar: the planned seconds of all runs (warm-ups included). */
  begin(plannedSeconds: number, runs: number): void;
  /** A timed run begins (warm-up or measured). */
  runStarted(label: string, seconds: number): void;
  /** The run ended; `summary` is its one-line result. */
  runFinished(summary: string): void;
  /** Planned seconds that will not run (a stress ladder that broke early, a variant that failed). */
  skip(seconds: number): void;
  /** A line of its own (never glued to the bar). */
  note(text: string): void;
  stop(): void;
}

/** Plan bookkeeping shared by both displays (pure apart from the clock it is given). */
export class PlanClock {
  private planned = 0;
  private done = 0;
  private current: { seconds: number; startedAt: number } | null = null;
  private startedAt = 0;
  runsDone = 0;
  runs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  begin(plannedSeconds: number, runs: number): void {
    this.planned = plannedSeconds;
    this.runs = runs;
    this.startedAt = this.now();
  }

  start(seconds: number): void {
    this.finish();
    this.current = { seconds, startedAt: this.now() };
  }

  /** Closes the current timed part (a warm-up or a measured run). */
  finish(): void {
    if (this.current !== null) this.done += this.current.seconds;
    this.current = null;
  }

  skip(seconds: number): void {
    this.planned = Math.max(this.done, this.planned - seconds);
  }

  /** Planned seconds behind us, the current part counted as far as it got. */
  progressed(): number {
    const inCurrent = this.current === null ? 0 : Math.min(this.current.seconds, (this.now() - this.current.startedAt) / 1000);
    return Math.min(this.planned, this.done + inCurrent);
  }

  total(): number {
    return this.planned;
  }

  /** Seconds left, scaled by how much slower than planned the runs have gone so far (start-up, stats). */
  etaSeconds(): number {
    const progressed = this.progressed();
    const wall = (this.now() - this.startedAt) / 1000;
    const pace = progressed > 5 ? Math.max(1, wall / progressed) : 1;
    return (this.planned - progressed) * pace;
  }
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? terminalProgress(stream) : plainProgress(stream);
}

function plainProgress(stream: NodeJS.WritableStream): Progress {
  const clock = new PlanClock();
  const write = (line: string) => stream.write(`[bench] ${line}\n`);
  return {
    header: (lines) => lines.forEach((l) => stream.write(`${l}\n`)),
    begin: (planned, runs) => clock.begin(planned, runs),
    runStarted: (label, seconds) => {
      clock.start(seconds);
      write(`${label} (${seconds} s)... [${Math.round((100 * clock.progressed()) / Math.max(1, clock.total()))} % done, ETA ${formatSeconds(clock.etaSeconds())}]`);
    },
    runFinished: (summary) => {
      clock.finish();
      write(`  ${summary}`);
    },
    skip: (seconds) => clock.skip(seconds),
    note: write,
    stop: () => clock.finish(),
  };
}

function terminalProgress(stream: NodeJS.WriteStream): Progress {
  const clock = new PlanClock();
  const multi = new MultiBar(
    {
      stream,
      format: "{bar} {percentage}% | ETA {eta_text} | {label}",
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      autopadding: true,
      // The bench handles Ctrl-C itself (partial results); cli-progress must not stop the display on it.
      gracefulExit: false,
      // Result lines printed above the bar are longer than a terminal row: let them wrap, not be cut.
      linewrap: true,
      barsize: 30,
    },
    Presets.shades_classic,
  );
  let bar: SingleBar | null = null;
  let label = "";
  let timer: NodeJS.Timeout | undefined;
  const refresh = () => bar?.update(Math.round(clock.progressed()), { eta_text: formatSeconds(clock.etaSeconds()), label });
  // MultiBar.log prints above the bar; it needs the trailing newline.
  const above = (text: string) => (bar === null ? stream.write(`${text}\n`) : multi.log(`${text}\n`));
  return {
    header: (lines) => lines.forEach((l) => stream.write(`${l}\n`)),
    begin(planned, runs) {
      clock.begin(planned, runs);
      bar = multi.create(Math.max(1, Math.round(planned)), 0, { eta_text: formatSeconds(planned), label: "starting" });
      timer = setInterval(refresh, 250);
    },
    runStarted(text, seconds) {
      clock.start(seconds);
      // Short enough that the bar line never wraps on an 80-column terminal.
      label = text.length > 32 ? `${text.slice(0, 31)}…` : text;
      refresh();
    },
    runFinished(summary) {
      clock.finish();
      above(`  ${summary}`);
      refresh();
    },
    skip(seconds) {
      clock.skip(seconds);
      bar?.setTotal(Math.max(1, Math.round(clock.total())));
      refresh();
    },
    note(text) {
      above(`[bench] ${text}`);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      clock.finish();
      if (bar !== null) {
        multi.update(); // flushes lines logged since the last redraw, which stop() would drop
        multi.stop();
      }
      bar = null;
    },
  };
}
