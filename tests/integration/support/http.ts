import * as http from "http";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * GET (or another method) over a fresh TCP connection (no keep-alive agent), so successive calls
 * spread over a cluster's workers the way separate clients would. Rejects after `timeoutMs`.
 */
export function httpRequest(url: string, options: { method?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? "GET", agent: false, timeout: options.timeoutMs ?? 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`${url}: no answer within ${options.timeoutMs ?? 10_000} ms`)));
    request.on("error", reject);
    request.end();
  });
}

/** GET and parse a JSON answer. */
export async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const answer = await httpRequest(url);
  return { status: answer.status, json: JSON.parse(answer.body.toString("utf8")) };
}
