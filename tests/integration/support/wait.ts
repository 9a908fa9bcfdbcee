/** Polls until `attempt` resolves with a value, or fails after `deadlineMs` with the last problem. */
export async function until<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < deadlineMs) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} did not happen within ${deadlineMs} ms${last ? ` (last: ${last instanceof Error ? last.message : String(last)})` : ""}`);
}
