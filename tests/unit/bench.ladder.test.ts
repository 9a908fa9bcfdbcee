/**
 * The report's ladder (issue 22 item 8): the guest kind in results.json, each rung's boot and
 * memory floor, the table per acceleration, and the unikernel ÷ micro-VM conclusion.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseArgs, BenchOptions } from "../../bench/cli/args";
import { bootView } from "../../bench/counters/docker";
import { containerBoot, ContainerBootView, guestBoot } from "../../bench/counters/boot";
import { analyze } from "../../bench/numbers/analysis";
import { floorsConfig, memoryFloorOf, runtimeOf } from "../../bench/reach/floors";
import { MICROVM_MEMORY_FLOOR_MB } from "../../model/config";
import { prepareVariant } from "../../bench/reach/prepare";
import { parseTargetSpec, targetsFromStackOutputs } from "../../bench/reach/targets";
import { ladderSession } from "../../bench/report/chartExamples";
import { conclusions, vmVersusVm } from "../../bench/report/conclusions";
import { ladderSection } from "../../bench/report/ladder";
import { renderReport } from "../../bench/report/report";
import { UsageError } from "../../bench/errors";
import { BenchResults, BootTime, parseResults, VariantResult } from "../../bench/schema";
import { makeResults } from "./bench-fixtures";

const START = "2026-12-03T18:00:00.000000000Z";
/** Seconds after START as Docker writes a timestamp (nanoseconds). */
const at = (s: number) => new Date(Date.parse(START) + s * 1000).toISOString().replace("Z", "123456Z");
const probe = (start: number, end: number, exitCode: number) => ({ start: at(start), end: at(end), exitCode });
const TEN_S = 10e9;

describe("bench ladder: guest kind in the provenance", () => {
  it("reads isolation from the stack outputs (containers leave it out) and from --target", () => {
    const [vm, uni, std, said] = targetsFromStackOutputs(
      {
        variants: {
          "microvm-vm": { cpus: 1, memoryMb: 256, url: "http://127.0.0.1:18005", isolation: "microvm", accel: "tcg", pidFile: "/lab/.run/ci/microvm-vm/qemu.pid" },
          unikernel: { cpus: 1, memoryMb: 480, url: "http://127.0.0.1:18004", isolation: "unikernel", accel: "tcg", pidFile: "/lab/unikernel/.run/ci/qemu.pid" },
          standard: { cpus: 2, memoryMb: 512, url: "http://127.0.0.1:18001" },
          boxed: { cpus: 1, memoryMb: 256, url: "http://127.0.0.1:18002", isolation: "container" },
        },
      },
      "ci",
    );
    assert.deepStrictEqual(vm.qemu, { pidFile: "/lab/.run/ci/microvm-vm/qemu.pid", accel: "tcg", guest: "microvm" });
    assert.strictEqual(uni.qemu?.guest, "unikernel");
    assert.strictEqual(std.qemu, undefined);
    assert.strictEqual(said.qemu, undefined);
    assert.throws(() => targetsFromStackOutputs({ variants: { x: { url: "http://127.0.0.1:1", isolation: "firecracker", pidFile: "/p" } } }, "ci"), /stack "ci" outputs are not what the bench expects/);

    assert.strictEqual(parseTargetSpec("m=http://127.0.0.1:18005,pidFile=/r/qemu.pid,accel=tcg,isolation=microvm").qemu?.guest, "microvm");
    assert.strictEqual(parseTargetSpec("u=http://127.0.0.1:18004,pidFile=/r/qemu.pid,isolation=unikernel").qemu?.guest, "unikernel");
    assert.throws(() => parseTargetSpec("m=http://127.0.0.1:1,pidFile=/p,isolation=vm"), /isolation must be one of microvm, unikernel \(a container needs no isolation option\), got "vm"/);
    assert.throws(() => parseTargetSpec("m=http://127.0.0.1:1,isolation=microvm"), /isolation=microvm describes a QEMU guest.*add pidFile=PATH/);
  });

  it("reads results files written before the guest kind, boot and floor existed", () => {
    const old = JSON.parse(JSON.stringify(makeResults())) as { variants: Record<string, unknown>[] };
    delete old.variants[0].boot;
    delete old.variants[0].memoryFloor;
    (old.variants[0].provenance as Record<string, unknown>).guest = undefined;
    old.variants[1].provenance = { isolation: "qemu", accel: "tcg" };
    const parsed = parseResults(old);
    assert.deepStrictEqual(parsed.variants[0].provenance, { isolation: "container", accel: null, guest: null });
    assert.deepStrictEqual(parsed.variants[1].provenance, { isolation: "qemu", accel: "tcg", guest: null });
    assert.strictEqual(parsed.variants[0].boot, null);
    assert.strictEqual(parsed.variants[0].memoryFloor, null);
  });
});

describe("bench ladder: boot to first 200", () => {
  it("takes a guest's from the runner's boot.json, with its acceleration", () => {
    const file = "/lab/.run/ci/qemu.pid/../boot.json";
    const ok = guestBoot(JSON.stringify({ bootMs: 9700, accel: "tcg", startedAt: "2026-12-03T18:00:00.000Z" }), file);
    assert.deepStrictEqual(ok.boot, { afterMs: 9700, byMs: 9700, source: "boot.json", detail: `QEMU started 2026-12-03T18:00:00.000Z; the runner timed its first 200 on /health (${file})` });
    assert.strictEqual(ok.accel, "tcg");
    assert.match(guestBoot(null, file).boot.detail, /^no .*boot\.json: the QEMU runner that started this guest wrote no boot record$/);
    assert.strictEqual(guestBoot(null, file).boot.byMs, null);
    assert.match(guestBoot("{", file).boot.detail, /is not JSON$/);
    assert.match(guestBoot(JSON.stringify({ bootMs: -1, accel: "tcg" }), file).boot.detail, /lacks bootMs, startedAt \(expected \{"bootMs", "accel", "startedAt"\}\)$/);
  });

  const view = (log: ContainerBootView["log"], healthcheck: ContainerBootView["healthcheck"] = { intervalNs: TEN_S, startIntervalNs: 0 }): ContainerBootView => ({ startedAt: START, healthcheck, log });

  it("bounds a container's between the last failing probe and the end of the first passing one", () => {
    const boot = containerBoot(view([probe(10, 10.3, 1), probe(20, 20.25, 0), probe(30, 30.2, 0)]));
    assert.strictEqual(boot.afterMs, 10_000);
    assert.strictEqual(boot.byMs, 20_250);
    assert.strictEqual(boot.source, "health-log");
    assert.match(boot.detail, /first passing probe ended 20\.3 s after State\.StartedAt; probes every 10 s/);
    // The first probe passed: the app answered some time between the start and that probe.
    assert.deepStrictEqual([containerBoot(view([probe(10, 10.4, 0)])).afterMs, containerBoot(view([probe(10, 10.4, 0)])).byMs], [0, 10_400]);
    // Docker's default interval (30 s) when the check leaves it at 0.
    assert.match(containerBoot(view([probe(30, 30.4, 0)], { intervalNs: 0, startIntervalNs: 0 })).detail, /probes every 30 s/);
  });

  it("says why when Docker's record cannot tell", () => {
    assert.match(String(containerBoot(view([], null)).detail), /no Docker health check/);
    assert.match(containerBoot(view([])).detail, /no health probe has run since the container started/);
    assert.match(containerBoot(view([probe(10, 10.2, 1)])).detail, /no health probe has passed/);
    // A restart keeps the probes of the earlier start; they say nothing of this one.
    assert.strictEqual(containerBoot(view([probe(-20, -19.8, 0), probe(10, 10.2, 1)])).byMs, null);
    // Five kept probes, the oldest 60 s after the start: the first passing one scrolled out.
    const scrolled = containerBoot(view([60, 70, 80, 90, 100].map((s) => probe(s, s + 0.2, 0))));
    assert.strictEqual(scrolled.byMs, null);
    assert.match(scrolled.detail, /only its last 5 health probes and the first passing one has scrolled out \(oldest kept: 60 s after the start\)/);
    // Five kept probes that began one interval after the start are all there is.
    assert.strictEqual(containerBoot(view([10, 20, 30, 40, 50].map((s) => probe(s, s + 0.2, s === 10 ? 1 : 0)))).byMs, 20_200);
    assert.match(containerBoot({ startedAt: null, healthcheck: null, log: [] }).detail, /no start time/);
  });

  it("reads start, health check and probes from docker inspect", () => {
    const reply = {
      State: { StartedAt: START, Health: { Log: [{ Start: at(10), End: at(10.2), ExitCode: 0, Output: "" }] } },
      Config: { Healthcheck: { Test: ["CMD", "node", "-e", "probe"], Interval: TEN_S } },
    };
    assert.deepStrictEqual(bootView(reply), { startedAt: START, healthcheck: { intervalNs: TEN_S, startIntervalNs: 0 }, log: [{ start: at(10), end: at(10.2), exitCode: 0 }] });
    assert.strictEqual(bootView({ State: { StartedAt: START }, Config: { Healthcheck: { Test: ["NONE"] } } }).healthcheck, null);
    assert.strictEqual(bootView({ State: { StartedAt: START }, Config: {} }).healthcheck, null);
  });
});

describe("bench ladder: memory floors from the stack config", () => {
  const ci = floorsConfig({ stack: "ci", explicit: true });

  it("gives a container its target's floor on its runtime, the unikernel its measured default, each with its source", () => {
    assert.deepStrictEqual(memoryFloorOf("minimal", null, ci).mb, 88);
    assert.deepStrictEqual(memoryFloorOf("minimal-bun", null, ci).mb, 64);
    assert.match(memoryFloorOf("standard", null, ci).source, /MEMORY_FLOORS_MB .*tests\/integration\/memoryFloor\.test\.ts/);
    const uni = memoryFloorOf("unikernel", "unikernel", ci);
    assert.strictEqual(uni.mb, 480);
    assert.match(uni.source, /UNIKERNEL_DEFAULT_MEMORY_MI .*npm run unikernel:targets -- --floor/);
  });

  it("names a --target container's runtime from the same stack config", () => {
    assert.strictEqual(runtimeOf("microvm-bun", ci), "bun");
    assert.strictEqual(runtimeOf("minimal", ci), "node");
    assert.strictEqual(runtimeOf("ghost", ci), null);
    assert.strictEqual(runtimeOf("minimal", floorsConfig(null)), null);
  });

  it("gives the micro-VM the floor the config refuses to go below, saying which range the search covered", () => {
    const floor = memoryFloorOf("microvm-vm", "microvm", ci);
    assert.strictEqual(floor.mb, MICROVM_MEMORY_FLOOR_MB);
    assert.match(floor.source, /MICROVM_MEMORY_FLOOR_MB \(model\/config\/microvm\.ts\): the smallest guest RAM, in 32 MiB steps from 96 to 256 MiB.*searched by `npm run vm:targets -- --floor`/);
  });

  it("says why a rung has no floor", () => {
    assert.deepStrictEqual(memoryFloorOf("ghost", null, ci), { mb: null, source: "Pulumi.ci.yaml has no variant ghost" });
    assert.deepStrictEqual(memoryFloorOf("standard", null, floorsConfig(null)), { mb: null, source: "no stack config read (give --floors STACK with --target)" });
    assert.throws(() => floorsConfig({ stack: "nosuch", explicit: true }), (err: unknown) => err instanceof UsageError && /^--floors nosuch: Pulumi\.nosuch\.yaml could not be read: /.test(err.message));
    const implicit = floorsConfig({ stack: "nosuch", explicit: false });
    assert.ok("why" in implicit && implicit.why.startsWith("Pulumi.nosuch.yaml could not be read: "));
  });

  it("reads them from --stack's own file by default, or from --floors", () => {
    const parse = (...argv: string[]) => parseArgs(argv) as BenchOptions;
    assert.deepStrictEqual(parse("--stack", "ci").floors, { stack: "ci", explicit: false });
    assert.deepStrictEqual(parse("--target", "a=http://127.0.0.1:1", "--floors", "ci").floors, { stack: "ci", explicit: true });
    assert.strictEqual(parse("--target", "a=http://127.0.0.1:1").floors, null);
    assert.throws(() => parseArgs(["--target", "a=http://127.0.0.1:1", "--floors", "../x"]), (err: unknown) => err instanceof UsageError && /^--floors: /.test(err.message));
  });
});

/** The example ladder with one variant changed. */
function ladderWith(name: string, change: (v: VariantResult) => VariantResult): BenchResults {
  const results = ladderSession();
  return { ...results, variants: results.variants.map((v) => (v.name === name ? change(v) : v)) };
}

describe("bench ladder: the table", () => {
  it("has one row per measured rung, in one table per acceleration, with boot, floor, peak memory and both endpoints", () => {
    const text = ladderSection(analyze(ladderSession()));
    const native = text.indexOf("### Native");
    const emulated = text.indexOf("### Emulated");
    assert.ok(native > 0 && emulated > native, text);
    const rowOf = (name: string) => text.split("\n").find((l) => l.startsWith(`| **${name}**`)) ?? "";
    assert.ok(text.indexOf(rowOf("minimal")) < emulated && text.indexOf(rowOf("microvm-vm")) > emulated, "containers and TCG guests never share a table");
    assert.strictEqual(rowOf("standard"), "| **standard** (node) | container | native | 2 | 512 MiB | 0.0–10.4 s | 88 MiB | 40.0 MiB | 34900.0 (spread 2 %) | 17823.1 | 6.00 ms | 410.0 (spread 3 %) | 208.7 | 6.00 ms |");
    assert.strictEqual(rowOf("unikernel"), "| **unikernel** (node) | unikernel (Unikraft, QEMU) | TCG (emulated) | 1 | 480 MiB | 5.7 s | 480 MiB | 40.0 MiB | 331.0 (spread 4 %) | 338.1 | 290.0 ms | 14.2 (spread 5 %) | 14.5 | 290.0 ms |");
    assert.match(rowOf("microvm-vm"), /^\| \*\*microvm-vm\*\* \(node\) \| micro-VM \(Linux guest, QEMU\) \| TCG \(emulated\) \| 1 \| 256 MiB \| 9\.7 s \| 256 MiB \|/);
  });

  it("shows — with the reason when a boot or a floor is not known, and 'not measured' for a missing endpoint", () => {
    const results = ladderWith("microvm-vm", (v) => ({ ...v, boot: { afterMs: null, byMs: null, source: null, detail: "no boot.json beside the pid file" }, memoryFloor: { mb: null, source: "model/config states no memory floor for the micro-VM guest" }, runs: v.runs.filter((r) => r.endpoint === "/api/light") }));
    const text = ladderSection(analyze(results));
    assert.match(text, /\| \*\*microvm-vm\*\* \(node\) \| micro-VM \(Linux guest, QEMU\) \| TCG \(emulated\) \| 1 \| 256 MiB \| — \| — \| 40\.0 MiB \| 182\.0 \(spread 5 %\) \| 184\.7 \| 420\.0 ms \| not measured \| — \| — \|/);
    assert.ok(text.includes("- microvm-vm: boot — because no boot.json beside the pid file"), text);
    assert.ok(text.includes("- microvm-vm: memory floor — because model/config states no memory floor for the micro-VM guest"), text);
  });

  it("is in the report, after the deployment", () => {
    const report = renderReport(ladderSession(), { ladder: "charts/ladder.svg" });
    assert.ok(report.indexOf("## The ladder") > report.indexOf("## Deployment") && report.indexOf("## The ladder") < report.indexOf("## Throughput"), report);
    assert.ok(report.includes("![Requests per CPU-second per rung](charts/ladder.svg)"), report);
  });
});

describe("bench ladder: unikernel ÷ micro-VM", () => {
  it("is drawn under one acceleration, with boot, floor, req/s and req per CPU-second and their spread", () => {
    const lines = vmVersusVm(analyze(ladderSession()));
    assert.deepStrictEqual(lines, [
      "Unikernel (unikernel) ÷ micro-VM (microvm-vm), both emulated (TCG), so the ratios compare the two guests with each other, never with native rows: " +
        "boot ×0.59 (5.7 s vs 9.7 s, QEMU start to first 200; one boot each, so no spread); memory floor ×1.88 (480 vs 256 MiB, the stack config's measured floors, not re-measured here).",
      "Unikernel ÷ micro-VM on /api/light: req/s ×1.82 (331.0 vs 182.0; unikernel: 3 runs, spread 4 %, microvm-vm: 3 runs, spread 5 %), req per CPU-second ×1.83 (338.1 vs 184.7).",
      "Unikernel ÷ micro-VM on /api/heavy: req/s ×1.56 (14.2 vs 9.10; unikernel: 3 runs, spread 5 %, microvm-vm: 3 runs, spread 5 %), req per CPU-second ×1.57 (14.5 vs 9.25).",
    ]);
    assert.ok(conclusions(analyze(ladderSession())).includes(lines[1]), "among the report's conclusions");
  });

  it("is not drawn across accelerations, nor without both guests, and says why", () => {
    const kvm = ladderWith("unikernel", (v) => ({ ...v, provenance: { ...v.provenance, accel: "kvm" } }));
    assert.deepStrictEqual(vmVersusVm(analyze(kvm)), [
      "No unikernel ÷ micro-VM comparison: unikernel ran under KVM and microvm-vm under TCG (emulated); ratios are drawn only between guests under one known acceleration (otherwise they measure the emulator, not the guests).",
    ]);
    const unknown = ladderWith("unikernel", (v) => ({ ...v, provenance: { ...v.provenance, accel: null } }));
    assert.match(vmVersusVm(analyze(unknown))[0], /^No unikernel ÷ micro-VM comparison: unikernel ran under an acceleration nobody stated/);
    const alone = ladderWith("microvm-vm", (v) => ({ ...v, runs: [] }));
    assert.deepStrictEqual(vmVersusVm(analyze(alone)), ["No unikernel ÷ micro-VM comparison: this session measured the unikernel (unikernel) but no micro-VM."]);
    const unnamed = ladderWith("microvm-vm", (v) => ({ ...v, provenance: { ...v.provenance, guest: null } }));
    assert.match(vmVersusVm(analyze(unnamed))[0], /but no micro-VM; microvm-vm ran under QEMU without saying which guest it is \(isolation=microvm\|unikernel\)\.$/);
    assert.deepStrictEqual(vmVersusVm(analyze(makeResults())), [], "no guest, no sentence");
  });

  it("gives no ratio from runs that did not measure the guest, and calls a difference within the spread not established", () => {
    const hostBound = ladderWith("microvm-vm", (v) => ({ ...v, runs: v.runs.map((r) => ({ ...r, bottleneck: { verdict: "host" as const, reason: "host CPUs 99 % busy" } })) }));
    const lines = vmVersusVm(analyze(hostBound));
    assert.ok(lines.includes("No unikernel ÷ micro-VM ratio on /api/light: microvm-vm's runs were host-bound, so their req/s do not measure the guests (figures stay in the ladder)."), lines.join("\n"));
    const close = ladderWith("microvm-vm", (v) => ({ ...v, runs: v.runs.map((r) => (r.endpoint === "/api/light" ? { ...r, responses: r.responses + 1400 } : r)) }));
    const near = vmVersusVm(analyze(close)).find((l) => l.includes("/api/light")) ?? "";
    assert.match(near, /req\/s ×1\.03 .* Not established: the difference is within the spread between repetitions \(\d+ %\)\.$/);
    const once = ladderWith("unikernel", (v) => ({ ...v, runs: v.runs.filter((r) => r.repetition === 0) }));
    assert.match(vmVersusVm(analyze(once))[1], /Not established: one repetition gives no spread to judge it by\.$/);
  });

  it("gives no boot ratio from a container-style window or a missing record", () => {
    const windowed: BootTime = { afterMs: 0, byMs: 10_000, source: "health-log", detail: "probe window" };
    const lines = vmVersusVm(analyze(ladderWith("microvm-vm", (v) => ({ ...v, boot: windowed }))));
    assert.match(lines[0], /: no boot ratio \(microvm-vm's boot: probe window\); memory floor ×1\.88/);
  });
});

describe("bench ladder: a QEMU guest prepared for the session", () => {
  // A process whose name says qemu (a copy of sleep) and a tiny HTTP server stand in for the guest.
  let dir: string;
  let fake: ChildProcess;
  let server: http.Server;
  let url: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-ladder-"));
    fs.copyFileSync("/bin/sleep", path.join(dir, "qemu-fake"));
    fs.chmodSync(path.join(dir, "qemu-fake"), 0o755);
    fake = spawn(path.join(dir, "qemu-fake"), ["60"], { stdio: "ignore" });
    fs.writeFileSync(path.join(dir, "qemu.pid"), `${fake.pid}\n`);
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  after(() => {
    fake.kill();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const target = (extra: string) => parseTargetSpec(`vm=${url},cpus=1,memoryMb=256,pidFile=${path.join(dir, "qemu.pid")}${extra}`);

  it("records the guest kind, the boot from boot.json, and takes boot.json's acceleration when the target says none", async () => {
    fs.writeFileSync(path.join(dir, "boot.json"), JSON.stringify({ bootMs: 9712, accel: "tcg", startedAt: "2026-12-03T18:00:00.000Z" }));
    const { result } = await prepareVariant(target(",isolation=microvm"), null, 2);
    assert.deepStrictEqual(result.provenance, { isolation: "qemu", accel: "tcg", guest: "microvm" });
    assert.deepStrictEqual([result.boot?.afterMs, result.boot?.byMs, result.boot?.source], [9712, 9712, "boot.json"]);
    assert.ok(!result.warnings.some((w) => w.includes("acceleration is not known")), result.warnings.join("\n"));
  });

  it("warns when the kind is not said or the runner's record disagrees, and says why there is no boot", async () => {
    fs.writeFileSync(path.join(dir, "boot.json"), JSON.stringify({ bootMs: 9712, accel: "tcg", startedAt: "2026-12-03T18:00:00.000Z" }));
    const disagree = (await prepareVariant(target(",accel=kvm"), null, 2)).result;
    assert.strictEqual(disagree.provenance.accel, "kvm");
    assert.ok(disagree.warnings.includes("the stack says accel kvm but the runner's boot.json says tcg: the figures follow the stack's"), disagree.warnings.join("\n"));
    assert.ok(disagree.warnings.some((w) => w.startsWith("which guest QEMU runs is not known")), disagree.warnings.join("\n"));
    fs.rmSync(path.join(dir, "boot.json"));
    const none = (await prepareVariant(target(",isolation=unikernel"), null, 2)).result;
    assert.strictEqual(none.boot?.byMs, null);
    assert.match(none.boot?.detail ?? "", /^no .*boot\.json: the QEMU runner that started this guest wrote no boot record$/);
    assert.strictEqual(none.provenance.accel, null);
  });
});
