// The fixed answers both bare reference servers send: the same routes and bodies as the web API
// (a 500 KiB /api/heavy), with nothing else (no metrics, no cluster, no query checks).
"use strict";

const variant = process.env.VARIANT || "bare";
const HEAVY_BYTES = 500 * 1024;

function heavyBody() {
  const frame = (items, padding) => JSON.stringify({ variant, kind: "heavy", items, padding });
  const items = [];
  let size = frame(items, "").length;
  for (let id = 0; ; id++) {
    const item = { id, name: `item-${String(id).padStart(6, "0")}`, value: (id % 1000) / 8, tags: ["alpha", "beta"] };
    const extra = JSON.stringify(item).length + (items.length > 0 ? 1 : 0);
    if (size + extra > HEAVY_BYTES) break;
    items.push(item);
    size += extra;
  }
  return Buffer.from(frame(items, "x".repeat(HEAVY_BYTES - size)));
}

const JSON_TYPE = "application/json; charset=utf-8";
const json = (body) => (Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)));

/** path → body of the routes answered at once. */
const fixed = new Map([
  ["/", json({ service: "optivolt-webapi-bare", variant })],
  ["/api/light", json({ status: "ok", variant, kind: "light", items: [1, 2, 3] })],
  ["/api/heavy", json(heavyBody())],
  ["/health", json({ status: "ok", variant })],
]);

module.exports = {
  JSON_TYPE,
  fixed,
  notFound: json({ error: "not_found" }),
  slow: json({ status: "ok", variant, kind: "slow" }),
  metricsText: () => `process_resident_memory_bytes ${process.memoryUsage.rss()}\n`,
  port: Number(process.env.PORT || 8000),
};
