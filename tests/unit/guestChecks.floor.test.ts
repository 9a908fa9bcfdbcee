/** The floor search both QEMU guests' studies run (bench/studies/guestChecks.ts), against a fake boot and a real loopback /health. */
import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { FloorTrial, searchFloor } from "../../bench/studies/guestChecks";

const CLEAN: FloorTrial = { lightRequests: 900, heavyRequests: 300, errors: 0, failure: null };

describe("guest studies: the memory floor search", () => {
  let server: http.Server;
  let baseUrl = "";
  before(async () => {
    server = http.createServer((req, res) => res.writeHead(req.url === "/health" ? 200 : 404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Runs the micro-VM's range against a guest that serves from `floorMi` up; what it booted, printed and found. */
  async function search(trialAt: (memoryMi: number) => FloorTrial | "no boot") {
    const booted: number[] = [];
    const lines: string[] = [];
    let stops = 0;
    const floor = await searchFloor({
      guest: "the micro-VM",
      failsMi: 64,
      servesMi: 256,
      stepMi: 32,
      boot: async (memoryMi) => {
        booted.push(memoryMi);
        if (trialAt(memoryMi) === "no boot") throw new Error(`qemu.sh start failed\nno first 200 within 60 s at ${memoryMi} MiB`);
        return { baseUrl };
      },
      serve: async (_booted, memoryMi) => trialAt(memoryMi) as FloorTrial,
      stop: async () => void stops++,
      say: (line) => lines.push(line),
    });
    return { floor, booted, lines, stops };
  }

  it("boots the top first, then halves in 32 MiB steps to the smallest size that serves, stopping the guest after every size", async () => {
    const { floor, booted, lines, stops } = await search((mi) => (mi >= 160 ? CLEAN : mi >= 128 ? { ...CLEAN, errors: 7, failure: "out of memory in the serial log" } : "no boot"));
    assert.strictEqual(floor, 160);
    assert.deepStrictEqual(booted, [256, 160, 96, 128]);
    assert.strictEqual(stops, 4);
    assert.deepStrictEqual(lines, [
      "floor: 256 MiB serves (50 connections: light 900 requests, heavy 300, 0 errors)",
      "floor: 160 MiB serves (50 connections: light 900 requests, heavy 300, 0 errors)",
      "floor: 96 MiB does not boot (no first 200 within 60 s at 96 MiB)",
      "floor: 128 MiB fails (50 connections: light 900 requests, heavy 300, 7 errors, out of memory in the serial log)",
      "memory floor: 160 MiB (128 MiB fails)",
    ]);
  });

  it("reaches the bottom of the range and says the size below it was never booted", async () => {
    const { floor, booted, lines } = await search(() => CLEAN);
    assert.strictEqual(floor, 96);
    assert.deepStrictEqual(booted, [256, 160, 96]);
    assert.strictEqual(lines[lines.length - 1], "memory floor: 96 MiB (64 MiB is below the searched range, not booted)");
  });

  it("a load with no answers is a failure even without an error count", async () => {
    const { floor } = await search((mi) => (mi >= 224 ? CLEAN : { ...CLEAN, heavyRequests: 0 }));
    assert.strictEqual(floor, 224);
  });

  it("a guest that stops answering /health after the load fails", async () => {
    const lines: string[] = [];
    const floor = await searchFloor({
      guest: "the micro-VM",
      failsMi: 64,
      servesMi: 256,
      stepMi: 32,
      boot: async (memoryMi) => ({ baseUrl: memoryMi >= 256 ? baseUrl : `${baseUrl}/gone` }),
      serve: async () => CLEAN,
      stop: async () => undefined,
      say: (line) => lines.push(line),
    });
    assert.strictEqual(floor, 256);
    assert.strictEqual(lines[1], "floor: 160 MiB fails (50 connections: light 900 requests, heavy 300, 0 errors, dead after the load)");
  });

  it("refuses to search when the top of the range does not serve", async () => {
    await assert.rejects(search(() => "no boot"), /^Error: the micro-VM does not serve at 256 MiB; nothing to search$/);
  });
});
