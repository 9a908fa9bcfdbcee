/**
 * Polls a URL until it answers 2xx, within a deadline. The unikernel's run step calls it right
 * after `kraft run --detach` (kraft returns once QEMU starts, long before Node listens):
 *
 *   node -r ts-node/register/transpile-only wait-for-health.ts <url> <timeoutSeconds>
 *
 * Node rather than curl because Node is certain to be there: the Pulumi program runs on it.
 */

export interface WaitForHealthOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Budget of one request; a guest that accepts but never answers must not eat the deadline. */
  requestTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class HealthTimeoutError extends Error {}

/** Resolves on the first 2xx answer; rejects with the last failure once the deadline passes. */
export async function waitForHealth(url: string, options: WaitForHealthOptions): Promise<void> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const intervalMs = options.intervalMs ?? 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const deadline = now() + options.timeoutMs;
  let lastFailure = "no attempt made";
  for (;;) {
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(requestTimeoutMs) });
      if (response.ok) return;
      lastFailure = `HTTP ${response.status}`;
    } catch (error) {
      // fetch hides the reason (ECONNREFUSED, ECONNRESET, ...) in `cause`.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      lastFailure = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    }
    if (now() + intervalMs > deadline) {
      throw new HealthTimeoutError(
        `${url} did not answer within ${Math.round(options.timeoutMs / 1000)} s (last attempt: ${lastFailure})`,
      );
    }
    await sleep(intervalMs);
  }
}

async function main(argv: string[]): Promise<number> {
  const [url, seconds] = argv;
  const timeoutSeconds = Number(seconds);
  if (url === undefined || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    process.stderr.write("usage: wait-for-health.ts <url> <timeoutSeconds>\n");
    return 2;
  }
  try {
    // Polled often: the unikernel targets time the first answer from this output.
    await waitForHealth(url, { timeoutMs: timeoutSeconds * 1000, intervalMs: 200 });
    process.stdout.write(`${url} is healthy\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`unikernel not healthy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
