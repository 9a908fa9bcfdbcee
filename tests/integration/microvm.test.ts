// The micro-VM for real: the ci stack's microvm-vm built from the program's own command lines (the
// unikernel's payload step, the kernel extracted from the vendored Debian package, the squashfs
// disk), booted by the one QEMU runner on its fixed port, every route checked, the guest's memory
// and vCPUs read from its init's console line, then stopped by the power button with no QEMU
// process or file left.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../../model/config";
import {
  diskBuildCommand,
  diskDeleteCommand,
  kernelBuildCommand,
  kernelDeleteCommand,
  microvmLayout,
  microvmStartCommand,
  microvmStopCommand,
  microvmTriggers,
  payloadTrigger,
} from "../../components/microvm/commands";
import { initrdBuildCommand, initrdDeleteCommand } from "../../components/unikernel/source";
import { initrdTags } from "../../components/unikernel/sourceBuild";
import { hostProbes } from "../../tooling/hostProbes";
import { assertErrorAnswers, assertServesEveryRoute } from "./support/routeChecks";
import { qemuProcessesFor, sh, ShellResult, shOk as runShellOk } from "./support/commandLines";
import { requireDockerEngine } from "./support";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const UNIKERNEL_DIR = path.join(PROJECT_DIR, "unikernel");
const VARIANT = "microvm-vm";

/** A command line run from the project root, where the micro-VM's command resources run. */
const shOk = (command: string, cwd = PROJECT_DIR) => runShellOk(command, cwd);

describe("micro-VM: the ci stack's Linux guest under QEMU (real Docker payload, dpkg-deb, mksquashfs, QEMU)", function () {
  this.timeout(900_000);
  const config = loadStackConfig("ci", PROJECT_DIR);
  const spec = config.microvms[VARIANT];
  const layout = microvmLayout("ci", VARIANT);
  const runDir = path.join(PROJECT_DIR, layout.runDir);
  const tags = initrdTags("ci", payloadTrigger(config.images, PROJECT_DIR));
  const payload = { initrd: path.posix.join("..", layout.payload) };
  const url = `http://127.0.0.1:${spec?.hostPort}`;
  let rebuilt: ShellResult[] = [];
  let started: ShellResult;
  let serial = "";

  before(async function () {
    assert.ok(spec, `the ci stack declares ${VARIANT}`);
    await requireDockerEngine();
    const missing = ["qemu-system-x86_64", "dpkg-deb", "mksquashfs", "cpio", "taskset"].filter((tool) => !hostProbes.commandOnPath(tool));
    assert.deepStrictEqual(missing, [], "install QEMU and the disk tools: apt-get install --no-install-recommends qemu-system-x86 squashfs-tools cpio util-linux");
    const triggers = microvmTriggers(spec, config.images, PROJECT_DIR);
    await shOk(initrdBuildCommand(config.images, tags, payload), UNIKERNEL_DIR);
    await shOk(kernelBuildCommand(spec, layout, triggers.kernel));
    await shOk(diskBuildCommand(layout, triggers.disk));
    rebuilt = [await shOk(kernelBuildCommand(spec, layout, triggers.kernel)), await shOk(diskBuildCommand(layout, triggers.disk))];
    started = await shOk(microvmStartCommand(spec, { layout, forwards: [`127.0.0.1:${spec.hostPort}`], variant: VARIANT }));
    serial = fs.readFileSync(path.join(PROJECT_DIR, layout.serialLog), "latin1");
    process.stdout.write(`      ${started.stdout.split("\n").filter((line) => /answered/.test(line)).join("")}\n`);
  });

  after(async () => {
    await sh(microvmStopCommand(layout), PROJECT_DIR);
    await sh(diskDeleteCommand(layout), PROJECT_DIR);
    await sh(kernelDeleteCommand(layout), PROJECT_DIR);
    await sh(initrdDeleteCommand(tags, payload), UNIKERNEL_DIR);
  });

  it("a second kernel and disk build with the same inputs does nothing", () => {
    assert.match(rebuilt[0].stdout, /is up to date \(key /);
    assert.match(rebuilt[1].stdout, /is up to date \(key /);
  });

  it("boots under the stack's acceleration, answers /health and records the boot beside the pid file", () => {
    const accel = /^accel=(kvm|tcg)$/m.exec(started.stdout);
    assert.ok(accel, started.stdout);
    assert.match(started.stdout, /answered \d+\.\d s after QEMU started/);
    assert.strictEqual(qemuProcessesFor(layout.runDir).length, 1, "one QEMU for the guest");
    const record = JSON.parse(fs.readFileSync(path.join(path.dirname(path.join(PROJECT_DIR, layout.pidFile)), "boot.json"), "utf8")) as Record<string, unknown>;
    assert.strictEqual(record.accel, accel[1]);
    assert.ok(typeof record.bootMs === "number" && record.bootMs > 0 && record.bootMs <= spec.healthTimeoutSeconds * 1000, `bootMs ${record.bootMs}`);
    assert.ok(!Number.isNaN(Date.parse(String(record.startedAt))), `startedAt ${record.startedAt}`);
  });

  it("serves every route (/api/heavy 512000 bytes) and the error answers through the forwarded port", async () => {
    await assertServesEveryRoute(url, VARIANT);
    await assertErrorAnswers(url);
  });

  it("reports the guest's memory and vCPUs from inside (the init's console line)", () => {
    const line = /optivolt-init: memory (\d+) kB, vcpus (\d+)/.exec(serial);
    assert.ok(line, `the init's line in the serial log:\n${serial.slice(-2000)}`);
    const memoryKb = Number(line[1]);
    // MemTotal is the guest RAM less what the kernel keeps for itself, never more than the budget.
    assert.ok(memoryKb <= spec.memoryMb * 1024 && memoryKb > spec.memoryMb * 1024 * 0.7, `MemTotal ${memoryKb} kB for ${spec.memoryMb} MiB`);
    assert.strictEqual(Number(line[2]), spec.cpus);
  });

  it("stops on the power button (the app drains), leaving no QEMU process and no run folder", async () => {
    const stopped = await shOk(microvmStopCommand(layout));
    assert.match(stopped.stdout, /the guest powered off/);
    assert.deepStrictEqual(qemuProcessesFor(layout.runDir), []);
    assert.strictEqual(fs.existsSync(runDir), false, `${runDir} removed`);
  });
});
