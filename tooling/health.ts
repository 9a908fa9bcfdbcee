/** Waiting for an HTTP server to answer its health check. */

/**
 * Polls `<url>/health` until it answers 200 and resolves with the milliseconds that took;
 * rejects once `deadlineMs` milliseconds have passed without a 200.
 */
export async function waitForHealth(url: string, deadlineMs: number): Promise<number> {
  const started = Date.now();
  let lastProblem = "no answer yet";
  while (Date.now() - started < deadlineMs) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return Date.now() - started;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${url}/health did not answer 200 within ${deadlineMs} ms (last: ${lastProblem})`);
}
