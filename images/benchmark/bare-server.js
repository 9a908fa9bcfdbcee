// The "how fast can Node go" reference: the web API's routes and bodies (bare-routes.js) on
// node:http with nothing else. Run with node 22 from this folder, PORT from env.
"use strict";
const http = require("node:http");
const { JSON_TYPE, fixed, metricsText, notFound, port, slow } = require("./bare-routes");

const send = (res, status, type, body) => {
  res.writeHead(status, { "content-type": type, "content-length": body.length });
  res.end(body);
};

const server = http.createServer((req, res) => {
  const q = req.url.indexOf("?");
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const body = fixed.get(path);
  if (body !== undefined) send(res, 200, JSON_TYPE, body);
  else if (path === "/api/slow") setTimeout(() => send(res, 200, JSON_TYPE, slow), 1000);
  else if (path === "/metrics") send(res, 200, "text/plain; version=0.0.4; charset=utf-8", Buffer.from(metricsText()));
  else send(res, 404, JSON_TYPE, notFound);
});
server.listen(port, "0.0.0.0");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
