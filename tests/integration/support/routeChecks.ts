import * as assert from "assert";
import { httpRequest } from "./http";

export const JSON_TYPE = "application/json; charset=utf-8";
export const PROMETHEUS_TYPE = /^text\/plain; version=0\.0\.4; charset=utf-8$/;
export const HEAVY_BYTES = 500 * 1024;

/**
 * Every fixed route of the web API at `url` answers 200 with its content type, a Content-Length
 * that matches its body, the heavy body's exact size (HEAD announcing it without a body), and the
 * variant it was started as. Shared by the contract suite and the images suite.
 */
export async function assertServesEveryRoute(url: string, variant: string): Promise<void> {
  const expectations: [path: string, type: RegExp | string, size?: number][] = [
    ["/", JSON_TYPE],
    ["/api/light", JSON_TYPE],
    ["/api/heavy", JSON_TYPE, HEAVY_BYTES],
    ["/health", JSON_TYPE],
    ["/metrics", PROMETHEUS_TYPE],
  ];
  for (const [path, type, size] of expectations) {
    const answer = await httpRequest(`${url}${path}`);
    assert.strictEqual(answer.status, 200, `${path} status`);
    if (typeof type === "string") assert.strictEqual(answer.headers["content-type"], type, `${path} content type`);
    else assert.match(answer.headers["content-type"] ?? "", type, `${path} content type`);
    assert.strictEqual(Number(answer.headers["content-length"]), answer.body.length, `${path} content-length`);
    if (size !== undefined) assert.strictEqual(answer.body.length, size, `${path} body size`);
    if (type === JSON_TYPE && path !== "/api/heavy") {
      assert.strictEqual((JSON.parse(answer.body.toString("utf8")) as { variant: string }).variant, variant, `${path} variant`);
    }
  }
  const head = await httpRequest(`${url}/api/heavy`, { method: "HEAD" });
  assert.strictEqual(head.status, 200);
  assert.strictEqual(Number(head.headers["content-length"]), HEAVY_BYTES, "HEAD announces the GET body's size");
  assert.strictEqual(head.body.length, 0, "HEAD has no body");
}

/** Unknown routes, bad queries and other methods get 404, 400 and 405 as JSON with a message. */
export async function assertErrorAnswers(url: string): Promise<void> {
  const cases: [path: string, status: number, message: RegExp, method?: string][] = [
    ["/no/such/route", 404, /no route \/no\/such\/route/],
    ["/api/slow?ms=oops", 400, /ms must be a whole number from 0 to 10000, got "oops"/],
    ["/api/light?x=%zz", 400, /malformed query string/],
    ["/api/heavy?size=1", 400, /unknown query parameter "size"/],
    ["/api/light", 405, /POST \/api\/light: only GET and HEAD/, "POST"],
  ];
  for (const [path, status, message, method] of cases) {
    const answer = await httpRequest(`${url}${path}`, { method });
    assert.strictEqual(answer.status, status, path);
    assert.strictEqual(answer.headers["content-type"], JSON_TYPE, path);
    assert.strictEqual(Number(answer.headers["content-length"]), answer.body.length, `${path} content-length`);
    assert.match((JSON.parse(answer.body.toString("utf8")) as { message: string }).message, message, path);
    if (status === 405) assert.strictEqual(answer.headers.allow, "GET, HEAD");
  }
}
