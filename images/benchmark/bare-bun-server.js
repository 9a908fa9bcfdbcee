// The "how fast can Bun go" reference: the web API's routes and bodies (bare-routes.js) on
// Bun.serve with nothing else. Run with bun from this folder, PORT from env.
"use strict";
const { JSON_TYPE, fixed, metricsText, notFound, port, slow } = require("./bare-routes");

const answer = (status, type, body) => new Response(body, { status, headers: { "content-type": type } });

const server = Bun.serve({
  port,
  hostname: "0.0.0.0",
  fetch(request) {
    const { pathname } = new URL(request.url);
    const body = fixed.get(pathname);
    if (body !== undefined) return answer(200, JSON_TYPE, body);
    if (pathname === "/api/slow") return new Promise((resolve) => setTimeout(() => resolve(answer(200, JSON_TYPE, slow)), 1000));
    if (pathname === "/metrics") return answer(200, "text/plain; version=0.0.4; charset=utf-8", metricsText());
    return answer(404, JSON_TYPE, notFound);
  },
});
process.on("SIGTERM", () => {
  server.stop();
  process.exit(0);
});
