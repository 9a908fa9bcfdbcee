/** Size of the /api/heavy body: 500 KiB, exactly. */
export const HEAVY_BODY_BYTES = 500 * 1024;

export const SERVICE_NAME = "optivolt-webapi";

/** Every route the API serves, in the order `/` lists them. */
export const ROUTES = ["/", "/api/light", "/api/heavy", "/api/slow", "/health", "/metrics"] as const;
export type RoutePath = (typeof ROUTES)[number];

export function welcomeBody(variant: string): string {
  return JSON.stringify({
    service: SERVICE_NAME,
    message: `Welcome to the OptiVolt web API (variant ${variant})`,
    variant,
    routes: ROUTES,
  });
}

export function lightBody(variant: string): string {
  return JSON.stringify({ status: "ok", variant, kind: "light", items: [1, 2, 3] });
}

export function healthBody(variant: string): string {
  return JSON.stringify({ status: "ok", variant });
}

/**
 * A JSON document of exactly `bytes` bytes: a list of records (a realistic payload to copy), padded
 * at the end so its size is exact. Built once at start-up, as strings (no per-record stringify:
 * start-up CPU counts double under a 0.5 CPU quota); requests share the same Buffer.
 */
export function heavyBody(variant: string, bytes = HEAVY_BODY_BYTES): Buffer {
  const head = `{"variant":${JSON.stringify(variant)},"kind":"heavy","items":[`;
  const tail = '],"padding":"';
  const end = '"}';
  const records: string[] = [];
  let size = head.length + tail.length + end.length; // ASCII only, so string length = byte length
  for (let id = 0; ; id++) {
    const record = `{"id":${id},"name":"item-${String(id).padStart(6, "0")}","value":${(id % 1000) / 8},"tags":["alpha","beta"]}`;
    const extra = record.length + (records.length > 0 ? 1 : 0);
    if (size + extra > bytes) break;
    records.push(record);
    size += extra;
  }
  if (size > bytes) throw new Error(`a heavy body needs at least ${size} bytes, got ${bytes}`);
  return Buffer.from(`${head}${records.join(",")}${tail}${"x".repeat(bytes - size)}${end}`);
}
