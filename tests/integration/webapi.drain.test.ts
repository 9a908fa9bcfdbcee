import * as assert from "assert";
import { ApiServerStarter, containerStarter, localProcessStarter, requireDockerEngine } from "./support";
import { drainRound } from "./support/drainRound";

/**
 * Issue 11 item 5: stopping the API under steady keep-alive load loses no request. Stopped the way
 * the Docker provider stops a container with `destroyGraceSeconds` (SIGTERM, SIGKILL after the
 * grace period); the clients reach the server directly (inside the container's network namespace).
 */
const ROUNDS = 5;
const CLIENTS = 60;
const GRACE_SECONDS = 10;

const starters: ApiServerStarter[] = [
  containerStarter({ target: "standard", cpus: 2, memoryMb: 512 }),
  containerStarter({ target: "minimal", cpus: 0.5, memoryMb: 128 }),
  localProcessStarter("node"),
  localProcessStarter("bun"),
];

/** Issue 20 item 4: the same stops under clients that pipeline (drainRound's `depth`). */
const PIPELINING_CLIENTS = 20;
const PIPELINE_DEPTH = 10;
const PIPELINING_ROUNDS = 3;

describe("web API: SIGTERM drain under steady keep-alive load", function () {
  this.timeout(15 * 60_000);

  before(async function () {
    await requireDockerEngine();
  });

  for (const starter of starters) {
    it(`${starter.description}: ${CLIENTS} clients, ${ROUNDS} stops, 0 requests lost`, async function () {
      await starter.prepare();
      const rounds = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const server = await starter.start();
        try {
          const result = await drainRound(server, { clients: CLIENTS, loadMs: 500, graceSeconds: GRACE_SECONDS });
          const { counts } = result;
          console.log(
            `      round ${round}: lost ${counts.lost}, sent ${counts.sent}, answered ${counts.answered} ` +
              `(${counts.answeredAfterMark} after SIGTERM, ${counts.answeredWithClose} with Connection: close), ` +
              `refused connects ${counts.refused}, exit ${result.exitCode} after ${result.stopMs} ms` +
              (counts.lostDetails.length > 0 ? `; lost: ${counts.lostDetails.join(", ")}` : ""),
          );
          rounds.push({ round, ...result, output: await server.output() });
        } finally {
          await server.remove();
        }
      }
      const lost = rounds.reduce((total, r) => total + r.counts.lost, 0);
      console.log(`      ${starter.description}: ${lost} lost over ${ROUNDS} rounds`);
      for (const r of rounds) {
        assert.strictEqual(r.counts.errors, 0, `round ${r.round}: non-200 answers`);
        assert.ok(r.counts.answeredAfterMark > 0, `round ${r.round}: no request was answered during the drain`);
        assert.strictEqual(r.exitCode, 0, `round ${r.round}: exit code\n${r.output}`);
        assert.ok(r.stopMs < GRACE_SECONDS * 1000, `round ${r.round}: the stop took ${r.stopMs} ms, the whole grace period`);
      }
      assert.strictEqual(lost, 0, "requests lost (written, then the connection ended without their answer)");
    });
  }
});

describe("web API: SIGTERM drain under pipelining clients", function () {
  this.timeout(15 * 60_000);

  before(async function () {
    await requireDockerEngine();
  });

  for (const starter of starters) {
    it(`${starter.description}: ${PIPELINING_CLIENTS} clients pipelining ${PIPELINE_DEPTH}, ${PIPELINING_ROUNDS} stops, lost requests counted (none on Node)`, async function () {
      await starter.prepare();
      let lost = 0;
      for (let round = 1; round <= PIPELINING_ROUNDS; round++) {
        const server = await starter.start();
        try {
          const { counts, exitCode, stopMs } = await drainRound(server, { clients: PIPELINING_CLIENTS, loadMs: 500, graceSeconds: GRACE_SECONDS, depth: PIPELINE_DEPTH });
          console.log(
            `      round ${round}: lost ${counts.lost}, refused by Connection: close ${counts.refusedByClose}, sent ${counts.sent}, ` +
              `answered ${counts.answered} (${counts.answeredAfterMark} after SIGTERM), exit ${exitCode} after ${stopMs} ms` +
              (counts.lostDetails.length > 0 ? `; lost: ${counts.lostDetails.slice(0, 3).join(", ")}` : ""),
          );
          lost += counts.lost;
          assert.strictEqual(counts.errors, 0, `round ${round}: non-200 answers`);
          assert.strictEqual(exitCode, 0, `round ${round}: exit code\n${await server.output()}`);
          assert.ok(stopMs < GRACE_SECONDS * 1000, `round ${round}: the stop took ${stopMs} ms, the whole grace period`);
        } finally {
          await server.remove();
        }
      }
      console.log(`      ${starter.description}: ${lost} lost over ${PIPELINING_ROUNDS} rounds`);
      // Bun.serve closes a connection that has a request pipelined behind one whose answer is not
      // ready at once, as every answer held in drain phase 1 is: what remains is measured above
      // and stated in docs/webapi-servers.md; node:http must lose none.
      if (starter.runtime === "node") assert.strictEqual(lost, 0, "pipelined requests lost (the connection ended without their answer or a Connection: close before them)");
    });
  }
});
