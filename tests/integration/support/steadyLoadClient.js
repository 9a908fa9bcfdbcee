// Steady light load for the swarm suite's rolling update, run with `node -e` in a container on the
// overlay network: one GET every INTERVAL_MS on a new connection to TARGET_HOST:TARGET_PORT (so DNS
// is asked each time and dnsrr hands out the tasks' current addresses). On SIGTERM it prints
// {"answered", "lost", "lostBy", "retried", "retriedBy"} as one JSON line and exits.
//
// A request is lost when it was sent and got no 200 (an error or timeout after the connection was
// up, or another status). A connection that cannot be opened (no DNS answer, refused, or no answer
// within CONNECT_TIMEOUT_MS: an address that left the swarm moments ago) sent nothing; it is retried
// like a client library or proxy would, and counted apart.
"use strict";
const http = require("http");

const host = process.env.TARGET_HOST;
const port = Number(process.env.TARGET_PORT);
const path = process.env.TARGET_PATH || "/api/light";
const intervalMs = Number(process.env.INTERVAL_MS || 50);
const connectTimeoutMs = Number(process.env.CONNECT_TIMEOUT_MS || 1000);
const attempts = 5;

const counts = { answered: 0, lost: 0, lostBy: {}, retried: 0, retriedBy: {} };
const bump = (map, key) => (map[key] = (map[key] || 0) + 1);
let stopping = false;
process.on("SIGTERM", () => (stopping = true));

/** One attempt: "ok", "lost:<why>" or "retry:<why>". */
function attempt() {
  return new Promise((resolve) => {
    let connected = false;
    const request = http.get({ host, port, path, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode === 200 ? "ok" : `lost:HTTP ${response.statusCode}`));
      response.on("error", (error) => resolve(`lost:${error.code || error.message}`));
    });
    const connectTimer = setTimeout(() => request.destroy(Object.assign(new Error("connect timeout"), { code: "CONNECT_TIMEOUT" })), connectTimeoutMs);
    request.on("socket", (socket) =>
      socket.on("connect", () => {
        connected = true;
        clearTimeout(connectTimer);
        request.setTimeout(5000, () => request.destroy(Object.assign(new Error("answer timeout"), { code: "ANSWER_TIMEOUT" })));
      }),
    );
    request.on("error", (error) => {
      clearTimeout(connectTimer);
      resolve(`${connected ? "lost" : "retry"}:${error.code || error.message}`);
    });
    request.on("close", () => clearTimeout(connectTimer));
  });
}

async function oneRequest() {
  for (let i = 1; i <= attempts; i++) {
    const outcome = await attempt();
    if (outcome === "ok") return counts.answered++;
    const [kind, why] = [outcome.slice(0, outcome.indexOf(":")), outcome.slice(outcome.indexOf(":") + 1)];
    if (kind === "lost" || i === attempts) {
      counts.lost++;
      return bump(counts.lostBy, why);
    }
    counts.retried++;
    bump(counts.retriedBy, why);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

(async () => {
  while (!stopping) {
    await oneRequest();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  console.log(JSON.stringify(counts));
})();
