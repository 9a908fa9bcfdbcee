// The "how fast can Node go" reference: the same routes and bodies as the web API, on node:http
// with nothing else (no metrics, no cluster, no query checks). Run with node 22, PORT from env.
"use strict";
const http = require("node:http");

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

const json = (body) => {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return { buffer, headers: { "content-type": "application/json; charset=utf-8", "content-length": buffer.length } };
};
const fixed = new Map([
  ["/", json({ service: "optivolt-webapi-bare", variant })],
  ["/api/light", json({ status: "ok", variant, kind: "light", items: [1, 2, 3] })],
  ["/api/heavy", json(heavyBody())],
  ["/health", json({ status: "ok", variant })],
]);
const notFound = json({ error: "not_found" });

const server = http.createServer((req, res) => {
  const q = req.url.indexOf("?");
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const answer = fixed.get(path);
  if (answer !== undefined) {
    res.writeHead(200, answer.headers);
    res.end(answer.buffer);
  } else if (path === "/api/slow") {
    setTimeout(() => {
      const slow = json({ status: "ok", variant, kind: "slow" });
      res.writeHead(200, slow.headers);
      res.end(slow.buffer);
    }, 1000);
  } else if (path === "/metrics") {
    const text = `process_resident_memory_bytes ${process.memoryUsage.rss()}\n`;
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  } else {
    res.writeHead(404, notFound.headers);
    res.end(notFound.buffer);
  }
});
server.listen(Number(process.env.PORT || 8000), "0.0.0.0");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
