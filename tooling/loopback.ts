/** Which hosts are this machine's own: load tests never leave it, and a swarm's nodes cannot pull from a manager's loopback. */

/** `localhost`, 127.0.0.0/8 or `::1` (bracketed or not, any case). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
