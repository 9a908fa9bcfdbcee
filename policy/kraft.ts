/** What the policies need from a `kraft run ...` command line. */
export interface KraftRun {
  /** Value of `-M`/`--memory`, as written. */
  memory?: string;
  /** Each `-p`/`--port` value: `[ip:]hostPort:guestPort[/protocol]`. */
  ports: string[];
}

/** Splits a shell command into words; quotes group, nothing is expanded. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/**
 * The words after `<program> <subcommand>` on the first line of a (possibly multi-line) shell
 * script that runs it, up to the end of the line; undefined when no line does. `program` matches
 * the program word, with or without a directory.
 */
export function argumentsOf(command: string, program: RegExp, subcommand: string): string[] | undefined {
  for (const line of command.replace(/\\\n/g, " ").split("\n")) {
    const all = words(line);
    const start = all.findIndex((word, i) => program.test(word) && all[i + 1] === subcommand);
    if (start >= 0) return all.slice(start + 2);
  }
  return undefined;
}

/** A shell operator ends the command whose flags are being read. */
export function isShellOperator(word: string): boolean {
  return /^(&&|\|\||;|\|)$/.test(word);
}

/** Parses the first `kraft run` of a (possibly multi-line) shell script; undefined when there is none. */
export function parseKraftRun(command: string): KraftRun | undefined {
  const args = argumentsOf(command, /(^|\/)kraft$/, "run");
  if (args === undefined) return undefined;
  const run: KraftRun = { ports: [] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith("--") ? args[i].split(/=(.*)/s, 2) : [args[i], undefined];
    const value = () => inline ?? args[++i];
    if (flag === "-M" || flag === "--memory") run.memory = value();
    else if (/^-M.+/.test(flag)) run.memory = flag.slice(2);
    else if (flag === "-p" || flag === "--port") run.ports.push(value());
    else if (isShellOperator(flag)) break;
  }
  return run;
}

const UNIT_BYTES: Record<string, number> = {
  "": 1, b: 1,
  k: 1e3, kb: 1e3, ki: 1024, kib: 1024,
  m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** `256Mi`, `512M`, `1Gi` → MiB; a bare number is bytes, as kraft reads it. Undefined when unparsable. */
export function memoryMiB(size: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(size.trim());
  if (!match) return undefined;
  const unit = UNIT_BYTES[match[2].toLowerCase()];
  return unit === undefined ? undefined : (Number(match[1]) * unit) / 1024 ** 2;
}

/** A published port of the unikernel: `[ip:]host:guest[/proto]`. */
export function parsePortSpec(spec: string): { ip?: string; hostPort: number; protocol: string } | undefined {
  const match = /^(?:(.+):)?(\d+):(\d+)(?:\/(\w+))?$/.exec(spec);
  if (!match) return undefined;
  return { ip: match[1]?.replace(/^\[|\]$/g, ""), hostPort: Number(match[2]), protocol: match[4] ?? "tcp" };
}
