/** Live progress on a terminal (cli-progress), plain lines otherwise (CI logs, pipes). */
import { SingleBar } from "cli-progress";

export interface Progress {
  /** A timed run begins (warm-up or measured). */
  runStarted(label: string, seconds: number): void;
  /** The run ended; `summary` is its one-line result. */
  runFinished(summary: string): void;
  note(text: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? terminalProgress(stream) : plainProgress(stream);
}

function plainProgress(stream: NodeJS.WritableStream): Progress {
  const write = (line: string) => stream.write(`[bench] ${line}\n`);
  return {
    runStarted: (label, seconds) => write(`${label} (${seconds} s)...`),
    runFinished: (summary) => write(`  ${summary}`),
    note: write,
    stop: () => undefined,
  };
}

function terminalProgress(stream: NodeJS.WriteStream): Progress {
  const bar = new SingleBar({ stream, format: "{label} [{bar}] {value}/{total} s", hideCursor: true, clearOnComplete: true });
  let timer: NodeJS.Timeout | undefined;
  const end = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    bar.stop();
  };
  return {
    runStarted(label, seconds) {
      end();
      const start = Date.now();
      bar.start(Math.ceil(seconds), 0, { label });
      timer = setInterval(() => bar.update(Math.min(Math.ceil(seconds), Math.floor((Date.now() - start) / 1000))), 250);
    },
    runFinished(summary) {
      end();
      stream.write(`  ${summary}\n`);
    },
    note(text) {
      end();
      stream.write(`${text}\n`);
    },
    stop: end,
  };
}
