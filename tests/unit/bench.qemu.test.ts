import * as assert from "assert";
import { analyze } from "../../bench/numbers/analysis";
import { chartSpecs } from "../../bench/report/charts";
import { consoleSummary } from "../../bench/report/tables";
import { conclusions } from "../../bench/report/conclusions";
import { statCpuSeconds, statusRssBytes } from "../../bench/counters/proc";
import { qemuPid } from "../../bench/reach/qemu";
import { renderReport } from "../../bench/report/report";
import { parseResults, VariantResult } from "../../bench/schema";
import { parseTargetSpec, targetsFromStackOutputs } from "../../bench/reach/targets";
import { makeResults, makeRun, makeVariant } from "./bench-fixtures";

// A QEMU process as /proc shows it: the command name holds a space and a parenthesis, which
// field splitting must survive; utime 1234 and stime 66 ticks (USER_HZ 100) = 13 s.
const QEMU_STAT =
  "2492 (qemu-system-x86) S 1 2491 2491 0 -1 4194624 52011 0 0 0 1234 66 0 0 20 0 4 0 117731 2317090816 102400 18446744073709551615 1 1 0 0 0 0 0 4096 17127 0 0 0 17 1 0 0 0 0 0\n";
const ODD_NAME_STAT = QEMU_STAT.replace("(qemu-system-x86)", "(qemu (x) 1)");
const QEMU_STATUS = [
  "Name:\tqemu-system-x86",
  "State:\tS (sleeping)",
  "Pid:\t2492",
  "VmPeak:\t 2317092 kB",
  "VmHWM:\t  512000 kB",
  "VmRSS:\t  409600 kB",
  "Threads:\t4",
  "Cpus_allowed_list:\t0-1",
  "",
].join("\n");

describe("bench QEMU process counters (/proc text)", () => {
  it("reads utime + stime in seconds, whatever the command name holds", () => {
    assert.strictEqual(statCpuSeconds(QEMU_STAT), 13);
    assert.strictEqual(statCpuSeconds(ODD_NAME_STAT), 13);
    assert.throws(() => statCpuSeconds("garbage"), /not a \/proc\/<pid>\/stat line/);
  });

  it("reads the resident size now (VmRSS), not the lifetime peak (VmHWM)", () => {
    assert.strictEqual(statusRssBytes(QEMU_STATUS), 409_600 * 1024);
    assert.strictEqual(statusRssBytes("Name:\tkthreadd\nState:\tS\n"), null);
  });
});

describe("bench QEMU pid file", () => {
  const file = "/lab/unikernel/.run/dev/qemu.pid";
  const fix = /is the unikernel running\? `npm run unikernel -- up`$/;

  it("gives the pid of a running QEMU", () => {
    assert.strictEqual(qemuPid("unikernel", file, { pidText: "2492\n", comm: "qemu-system-x86\n" }), 2492);
  });

  it("says what is wrong with the file, with the fix", () => {
    const missing = qemuPid("unikernel", file, { pidText: null, comm: null });
    assert.strictEqual(typeof missing, "string");
    assert.match(String(missing), /^unikernel: QEMU pid file \/lab\/unikernel\/\.run\/dev\/qemu\.pid does not exist; /);
    assert.match(String(missing), fix);
    assert.match(String(qemuPid("unikernel", file, { pidText: "2492\n", comm: null })), /names pid 2492, which is not running; is the unikernel/);
    assert.match(String(qemuPid("unikernel", file, { pidText: "\n", comm: null })), /holds "", not a pid/);
    assert.match(String(qemuPid("unikernel", file, { pidText: "2492", comm: "bash\n" })), /names pid 2492, which is `bash`, not QEMU \(a stale pid file\)/);
  });
});

describe("bench QEMU targets", () => {
  it("reads accel and pidFile from the stack outputs of a source-built unikernel", () => {
    const [unikernel, standard] = targetsFromStackOutputs(
      {
        variants: {
          unikernel: { cpus: 1, memoryMb: 384, url: "http://127.0.0.1:8004", status: "running", runtime: "node", builder: "source", accel: "tcg", pidFile: "/lab/unikernel/.run/dev/qemu.pid" },
          standard: { cpus: 2, memoryMb: 512, url: "http://127.0.0.1:8001" },
        },
      },
      "dev",
    );
    assert.deepStrictEqual(unikernel.qemu, { pidFile: "/lab/unikernel/.run/dev/qemu.pid", accel: "tcg", guest: null });
    assert.strictEqual(unikernel.memoryMb, 384);
    assert.strictEqual(unikernel.skipped, null);
    assert.strictEqual(standard.qemu, undefined);
    assert.throws(() => targetsFromStackOutputs({ variants: { unikernel: { url: "http://127.0.0.1:8004", accel: "hvf", pidFile: "/x" } } }, "dev"), /stack "dev" outputs are not what the bench expects/);
  });

  it("takes pidFile and accel in --target, and names the key and the fix when they are wrong", () => {
    const t = parseTargetSpec("unikernel=http://127.0.0.1:18044,cpus=1,memoryMb=384,pidFile=/tmp/run/qemu.pid,accel=tcg");
    assert.deepStrictEqual(t.qemu, { pidFile: "/tmp/run/qemu.pid", accel: "tcg", guest: null });
    assert.strictEqual(t.budgetSource, "target");
    assert.deepStrictEqual(parseTargetSpec("u=http://127.0.0.1:1,pidFile=/p").qemu, { pidFile: "/p", accel: null, guest: null });
    assert.throws(() => parseTargetSpec("u=http://127.0.0.1:1,pidFile=/p,accel=hvf"), /accel must be kvm or tcg .*got "hvf"/);
    assert.throws(() => parseTargetSpec("u=http://127.0.0.1:1,pidFile=run/qemu.pid"), /pidFile must be an absolute path .*got "run\/qemu.pid"; e.g. pidFile=\$PWD\/run\/qemu.pid/);
    assert.throws(() => parseTargetSpec("u=http://127.0.0.1:1,accel=tcg"), /accel describes a QEMU variant.*add pidFile=PATH/);
    assert.throws(() => parseTargetSpec("u=http://127.0.0.1:1,pidFile=/p,container=c"), /either a container \(container=NAME\) or a QEMU process \(pidFile=PATH\)/);
  });
});

/** The unikernel under QEMU's TCG, sampled from its process: 600 req/s where standard serves 1 200 with 2 CPUs. */
function emulatedUnikernel(overrides: Partial<VariantResult> = {}): VariantResult {
  return makeVariant("unikernel", 1, 384, [makeRun({ responses: 6_000, server: { cpuSeconds: 14, peakMemoryMb: 420, samples: 41 } })], {
    container: null,
    statsSource: "process",
    provenance: { isolation: "qemu", accel: "tcg", guest: "unikernel" },
    networkPath: "127.0.0.1:18044 → qemu user-net forward (slirp inside QEMU, pid 2492) → the guest",
    ...overrides,
  });
}

function withUnikernel(unikernel: VariantResult = emulatedUnikernel()) {
  return makeResults({ variants: [makeVariant("standard", 2, 512, [makeRun({ responses: 12_000, server: { cpuSeconds: 15, peakMemoryMb: 90, samples: 21 } })]), unikernel] });
}

describe("bench report of an emulated unikernel", () => {
  it("marks the variant emulated in every table, with QEMU as its server and the path it took", () => {
    const report = renderReport(withUnikernel());
    assert.match(report, /\| \*\*unikernel \(emulated: TCG\)\*\* \| ✅ measured \| — \| http:\/\/127\.0\.0\.1:8002 \| 1 CPU, 384 MiB \| unikernel \(Unikraft, QEMU\), accel tcg \(software emulation\) \| 127\.0\.0\.1:18044 → qemu user-net forward/);
    assert.ok(report.includes("unikernel (emulated: TCG) (1 CPU)   600.0 req/s"), report);
    assert.ok(report.includes("(emulated (TCG): not comparable for speed) ⚠️ emulated (TCG)"), report);
    assert.ok(report.includes("| `/api/light` | unikernel (emulated: TCG) | 2.00 | 4.00 | 8.00 | 20.0 | 0.00 % | 0.10 | ⚠️ emulated (TCG) |"), report);
    // Per GB divides by the guest's 384 MiB; no ratio to the native baseline.
    assert.ok(report.includes("| `/api/light` | unikernel (emulated: TCG) | 600.0 | 1600.0 | 428.6 | 1.40 of 1 | 420.0 MiB | ⚠️ emulated (TCG) |"), report);
    assert.ok(report.includes("| Endpoint | standard | unikernel (emulated: TCG) |"), report);
    assert.ok(report.includes("- Emulated: unikernel ran under QEMU's TCG software emulation"), report);
    assert.ok(report.includes("the QEMU process's /proc/<pid>/stat (utime + stime) and status (VmRSS)"), report);
    assert.match(report, /\*\*Measuring path:\*\* published — .*; for unikernel \(QEMU\): qemu user-net forward/);
  });

  it("marks it in the terminal summary and the charts", () => {
    const results = withUnikernel();
    assert.match(consoleSummary(results), /unikernel \(emulated: TCG\) +600\.0 +— +emulated \(TCG\): not comparable for speed .* emulated \(TCG\)\n/);
    const throughput = chartSpecs(analyze(results)).find((c) => c.file === "throughput");
    const values = (throughput?.spec.data as { values: { variant: string; text: string }[] }).values;
    assert.deepStrictEqual(values.map((v) => [v.variant, v.text]), [["standard (2 CPUs, 512 MiB)", "1200.0 req/s (1 run)"], ["unikernel (emulated: TCG) (1 CPU, 384 MiB)", "600.0 req/s (1 run) ⚠ not established: emulated (TCG)"]]);
  });

  it("keeps the provenance in results.json, and reads files written before it existed", () => {
    assert.deepStrictEqual(parseResults(withUnikernel()).variants[1].provenance, { isolation: "qemu", accel: "tcg", guest: "unikernel" });
    const old = JSON.parse(JSON.stringify(makeResults())) as { variants: Record<string, unknown>[] };
    delete old.variants[0].provenance;
    assert.deepStrictEqual(parseResults(old).variants[0].provenance, { isolation: null, accel: null, guest: null });
  });
});

describe("bench conclusions with an emulated unikernel", () => {
  it("say it is not comparable for speed instead of comparing or ranking it", () => {
    const lines = conclusions(analyze(withUnikernel()));
    const sentence = "unikernel on /api/light: emulated (TCG): not comparable for speed (QEMU without KVM); its figures stay in the tables, marked.";
    assert.ok(lines.includes(sentence), lines.join("\n"));
    assert.ok(!lines.some((l) => /unikernel serves|unikernel \d/.test(l)), lines.join("\n"));
    assert.ok(lines.includes("Req/s per CPU on /api/light, server-bound runs only, best first: standard 600.0 (1 run, spread unknown)."), lines.join("\n"));
    // QEMU's 420 MB resident holds the emulator too: no OOM warning against the guest's 384 MB.
    assert.ok(!lines.some((l) => l.includes("close to the OOM limit")), lines.join("\n"));
    // Alone (so the baseline), it still gets the sentence and no "no run was server-bound" claim.
    const alone = conclusions(analyze(makeResults({ variants: [emulatedUnikernel()], settings: { ...makeResults().settings, baseline: "unikernel" } })));
    assert.ok(alone.includes(sentence), alone.join("\n"));
    assert.ok(!alone.some((l) => l.startsWith("No conclusion")), alone.join("\n"));
  });

  it("compare it as usual when QEMU had KVM", () => {
    const lines = conclusions(analyze(withUnikernel(emulatedUnikernel({ provenance: { isolation: "qemu", accel: "kvm", guest: "unikernel" } }))));
    assert.ok(lines.some((l) => l.startsWith("On /api/light, unikernel serves 50 % of standard's throughput")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.includes("emulated")), lines.join("\n"));
  });
});
