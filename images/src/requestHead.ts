/**
 * The one rule both servers apply to a request's Host field and target before anything is routed
 * (RFC 9112 §3.2). Each server hands over what its own parser read; nothing here parses HTTP.
 *
 * - Host: absent is only possible on HTTP/1.0 (node:http and Bun.serve answer an HTTP/1.1 request
 *   without Host 400 themselves), and such a request is served. Present, it must be exactly one
 *   host name (letters, digits, `-._~`), IPv4 or bracketed IPv6 address with an optional port:
 *   an empty, duplicate (both runtimes then read the values joined by ", ") or otherwise invalid
 *   Host is a 400. RFC 3986's reg-name also allows sub-delims and percent-encoding; no host a
 *   client can resolve uses them, and Bun cannot build a URL from some of them.
 * - Target: origin-form (`/path?query`) or absolute-form (`http://authority/path?query`, whose
 *   authority is ignored); anything else is a 400. The path is normalised as WHATWG's URL
 *   parser does (`\` is `/`, `.`/`..`/`%2e` segments resolved), because Bun.serve hands over
 *   only that parse: Node then routes exactly what Bun routes.
 */

/** How long either server waits for a request head before it closes the connection. */
export const REQUEST_TIMEOUT_MS = 10_000;

export type RequestHead =
  | { ok: true; /** Normalised path, then `?query` if any. */ target: string }
  | { ok: false; /** The 400's message. */ problem: string };

const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?$/;
/** Targets WHATWG's parser leaves as they are: no dot, backslash, percent in the path, nothing it would encode. */
const ALREADY_NORMAL = /^\/[\w\-~!$&'()*+,;=:@/]*(?:\?[\w\-~!$&'()*+,;=:@/?%.]*)?$/;
const ABSOLUTE_FORM = /^https?:\/\//i;

export function readRequestHead(target: string, host: string | undefined): RequestHead {
  if (host !== undefined && !VALID_HOST.test(host)) {
    return { ok: false, problem: `invalid Host header ${JSON.stringify(host)}: send it once, as a host name, IPv4 or [IPv6] address with an optional :port` };
  }
  if (ALREADY_NORMAL.test(target)) return { ok: true, target };
  let url: URL;
  try {
    // Concatenated, not resolved against a base: "//x/metrics" is a path, not an authority.
    url = new URL(target.startsWith("/") ? `http://h${target}` : ABSOLUTE_FORM.test(target) ? target : "invalid:");
  } catch {
    url = new URL("invalid:");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, problem: `invalid request target ${JSON.stringify(target)}: expected a path (/...) or an absolute http URL` };
  }
  return { ok: true, target: url.pathname + url.search };
}

/**
 * Whether the answer closes the connection, said with `Connection: close` on both servers: the
 * client asked (`Connection: close`), it spoke HTTP/1.0 without Host (see above), or it asked for
 * a protocol upgrade, which the API does not offer (node:http stops reading after such a request).
 */
export function closesConnection(request: { host: string | undefined; connection: string | undefined; upgrade: string | undefined }): boolean {
  return request.host === undefined || request.upgrade !== undefined || (request.connection !== undefined && /(?:^|,)\s*close\s*(?:,|$)/i.test(request.connection));
}
