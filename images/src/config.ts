import { MAX_VARIANT_NAME_LENGTH, MAX_WORKERS } from "./limits";

/** Everything the web API reads from its environment, validated once at start-up. */
export interface AppConfig {
  /** TCP port to listen on (PORT, default 8000). */
  port: number;
  /** Address to bind (HOST, default 0.0.0.0: every IPv4 interface of the container). */
  host: string;
  /** Variant name reported by `/`, `/health` and the metrics (VARIANT, default "local"). */
  variant: string;
  /** Worker processes (WORKERS); undefined or "auto" → sized from the CPU quota. */
  workers: number | undefined;
  /** Default delay of /api/slow in ms (SLOW_DELAY_MS, default 1000). */
  slowDelayMs: number;
  /** How long SIGTERM waits for in-flight requests before closing them (SHUTDOWN_TIMEOUT_MS, default 5000). */
  shutdownTimeoutMs: number;
}

/** Upper bound of /api/slow's delay, so one request cannot hold a connection for long. */
export const MAX_SLOW_DELAY_MS = 10_000;

/** A bad environment value; its message names the variable and says what is accepted. */
export class EnvError extends Error {
  constructor(problems: readonly string[]) {
    super(`Invalid environment for the OptiVolt web API:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/** Parses a base-10 integer written with digits only; anything else is NaN. */
export function parseStrictInt(text: string): number {
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

type Env = Readonly<Record<string, string | undefined>>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = parseStrictInt(raw);
  if (Number.isNaN(value) || value < min || value > max) {
    problems.push(`${name}=${JSON.stringify(env[name])}: must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

/** Validates the environment; throws one EnvError listing every bad variable. */
export function parseEnv(env: Env): AppConfig {
  const problems: string[] = [];
  const port = intVar(env, "PORT", 8000, 1, 65535, problems);
  const slowDelayMs = intVar(env, "SLOW_DELAY_MS", 1000, 0, MAX_SLOW_DELAY_MS, problems);
  const shutdownTimeoutMs = intVar(env, "SHUTDOWN_TIMEOUT_MS", 5000, 0, 600_000, problems);

  let workers: number | undefined;
  const rawWorkers = env.WORKERS?.trim();
  if (rawWorkers && rawWorkers !== "auto") {
    workers = parseStrictInt(rawWorkers);
    if (Number.isNaN(workers) || workers < 1 || workers > MAX_WORKERS) {
      problems.push(`WORKERS=${JSON.stringify(env.WORKERS)}: must be "auto" (size from the CPU quota) or a whole number from 1 to ${MAX_WORKERS}`);
    }
  }

  const variant = env.VARIANT?.trim() || "local";
  if (!new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_VARIANT_NAME_LENGTH - 1}}$`).test(variant)) {
    problems.push(`VARIANT=${JSON.stringify(env.VARIANT)}: must be 1-${MAX_VARIANT_NAME_LENGTH} letters, digits, ".", "_" or "-"`);
  }
  const host = env.HOST?.trim() || "0.0.0.0";

  if (problems.length > 0) throw new EnvError(problems);
  return { port, host, variant, workers, slowDelayMs, shutdownTimeoutMs };
}
