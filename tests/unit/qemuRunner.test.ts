// unikernel/source/qemu.sh, the one QEMU runner, on a PATH whose qemu-system-x86_64 and dmesg are
// fakes: the fake QEMU records its arguments, "daemonizes" (a process named like QEMU, its pid in
// -pidfile) and leaves /health to a server the test runs, so the runner's own line and boot record
// are checked without a guest.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

const PROJECT = path.resolve(__dirname, "../..");
const RUNNER = path.join(PROJECT, "unikernel/source/qemu.sh");

interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** QEMU's arguments, one a line, as the fake received them. */
  qemuArgs: () => string[];
}

function sandbox(dmesgLine: string): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-qemu-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const argsFile = path.join(dir, "qemu.args");
  fs.writeFileSync(
    path.join(bin, "qemu-system-x86_64"),
    [
      "#!/bin/bash",
      // The "daemon": a bash loop keeps the script's name, which the runner's stop looks for; it ends by itself within a minute.
      'if [ "$1" = --fake-daemon ]; then for ((i = 0; i < 300; i++)); do sleep 0.2; done; exit 0; fi',
      `printf '%s\\n' "$@" > ${argsFile}`,
      'args=("$@"); for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = -pidfile ] && pidfile=${args[i+1]}; done',
      '"$0" --fake-daemon </dev/null >/dev/null 2>&1 &',
      'echo $! > "$pidfile"',
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, "dmesg"), `#!/bin/sh\necho '[    0.000000] ${dmesgLine}'\n`, { mode: 0o755 });
  for (const file of ["vmlinuz", "initrd", "disk"]) fs.writeFileSync(path.join(dir, file), "");
  return {
    dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    qemuArgs: () => fs.readFileSync(argsFile, "utf8").split("\n"),
  };
}

function runner(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", [RUNNER, ...args], { cwd: PROJECT, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) || 1 : 0, stdout, stderr }),
    );
  });
}

describe("qemu.sh start/stop (fake QEMU, real runner)", function () {
  this.timeout(60_000);
  let health: http.Server;
  let port: number;
  const boxes: Sandbox[] = [];

  before(async () => {
    health = http.createServer((_req, res) => res.end("{}"));
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    port = (health.address() as AddressInfo).port;
  });
  after(() => {
    health.close();
    for (const box of boxes) fs.rmSync(box.dir, { recursive: true, force: true });
  });

  async function startAndStop(guest: "linux" | "unikraft", accel: "tcg" | "kvm", dmesgLine: string) {
    const box = sandbox(dmesgLine);
    boxes.push(box);
    const runDir = path.join(box.dir, "run");
    const files = ["--kernel", path.join(box.dir, "vmlinuz"), "--initrd", path.join(box.dir, "initrd"), ...(guest === "linux" ? ["--disk", path.join(box.dir, "disk")] : [])];
    const started = await runner(
      ["start", "--guest", guest, "--run-dir", runDir, ...files, "--memory", "256", "--accel", accel, "--forward", `127.0.0.1:${port}`, "--timeout", "30", "--", "/usr/bin/node", "/app/dist/server.js"],
      box.env,
    );
    assert.strictEqual(started.code, 0, `${started.stderr}\n${started.stdout}`);
    const boot = JSON.parse(fs.readFileSync(path.join(runDir, "boot.json"), "utf8")) as { bootMs: unknown; accel: unknown; startedAt: unknown };
    const append = box.qemuArgs()[box.qemuArgs().indexOf("-append") + 1];
    const stopped = await runner(["stop", "--run-dir", runDir, "--grace", "2"], box.env);
    assert.strictEqual(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped pid \d+/);
    assert.strictEqual(fs.existsSync(runDir), false, "the run folder, boot record included, goes with the guest");
    return { started, boot, append };
  }

  it("a linux guest under TCG gets the host's TSC rate (tsc_early_khz from the host kernel's figure), so its timer runs on the microvm machine", async () => {
    const { append } = await startAndStop("linux", "tcg", "tsc: Refined TSC clocksource calibration: 2500.123 MHz");
    assert.match(append, /^console=ttyS0 quiet panic=-1 tsc_early_khz=2500123 .* -- \/usr\/bin\/node \/app\/dist\/server\.js$/);
  });

  it("under KVM the guest measures its own clock: no tsc_early_khz", async () => {
    const { append } = await startAndStop("linux", "kvm", "tsc: Detected 2500.123 MHz processor");
    assert.ok(!append.includes("tsc_early_khz"), append);
  });

  it("both guests leave a boot record beside the pid file: {bootMs, accel, startedAt}", async () => {
    for (const guest of ["linux", "unikraft"] as const) {
      const before = Date.now();
      const { started, boot } = await startAndStop(guest, "tcg", "tsc: Detected 2500.123 MHz processor");
      assert.deepStrictEqual(Object.keys(boot), ["bootMs", "accel", "startedAt"], guest);
      assert.strictEqual(boot.accel, "tcg", guest);
      assert.ok(typeof boot.bootMs === "number" && boot.bootMs >= 0 && boot.bootMs < 30_000, `${guest} bootMs ${boot.bootMs}`);
      const startedAt = Date.parse(String(boot.startedAt));
      assert.ok(startedAt >= before - 1000 && startedAt <= Date.now(), `${guest} startedAt ${boot.startedAt}`);
      // The figure it printed is the one it recorded.
      const printed = /answered (\d+)\.(\d) s after QEMU started/.exec(started.stdout);
      assert.ok(printed, started.stdout);
      assert.strictEqual(Math.floor((boot.bootMs as number) / 100), Number(printed[1]) * 10 + Number(printed[2]), guest);
    }
  });
});
