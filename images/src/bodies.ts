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
 * at the end so its size is exact. Built once at start-up; requests share the same Buffer.
 */
export function heavyBody(variant: string, bytes = HEAVY_BODY_BYTES): Buffer {
  const frame = (list: object[], padding: string) => JSON.stringify({ variant, kind: "heavy", items: list, padding });
  const items: object[] = [];
  let size = frame(items, "").length; // ASCII only, so string length = byte length
  for (let id = 0; ; id++) {
    const item = { id, name: `item-${String(id).padStart(6, "0")}`, value: (id % 1000) / 8, tags: ["alpha", "beta"] };
    const extra = JSON.stringify(item).length + (items.length > 0 ? 1 : 0);
    if (size + extra > bytes) break;
    items.push(item);
    size += extra;
  }
  return Buffer.from(frame(items, "x".repeat(bytes - size)));
}
