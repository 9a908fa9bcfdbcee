// scripts/unikernel.ts (`npm run unikernel -- up|down`) on a PATH the test builds: fake `bash` (which
// the steps' command lines call), QEMU, make, the build tools and docker, recording how they were
// called, and a stack file of the test's own, so nothing is built or booted.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { QEMU_FIX, UNIKERNEL_BUILD_TOOLS_FIX } from "../../scripts/doctor";
import { main } from "../../scripts/unikernel";

const STACK = "t";
const STACK_FILE = `config:
  optivolt:variants:
    standard: { target: standard, cpus: 1, memoryMb: 256, hostPort: 18041 }
  optivolt:unikernel:
    builder: kraft
    accel: tcg
    memoryMi: 320
    hostPort: 18044
    source:
      archives:
        unikraft: vendor/unikraft.tar.gz
      sha256:
        unikraft: ${"a".repeat(64)}
`;
const BUILD_TOOLS = ["qemu-system-x86_64", "make", "gcc", "flex", "bison", "unzip", "docker"];

/**
 * A project folder holding the stack file, and a PATH folder of fakes appending `name args` to
 * calls.log; the fake bash prints what qemu.sh start prints last, and exits `failOn`'s code on that script.
 */
function sandbox(fakes: readonly string[], failOn?: { script: string; code: number }) {
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-cli-"));
  fs.writeFileSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), STACK_FILE);
  fs.mkdirSync(path.join(projectDir, "vendor"));
  fs.writeFileSync(path.join(projectDir, "vendor", "unikraft.tar.gz"), "");
  const bin = path.join(projectDir, "bin");
  fs.mkdirSync(bin);
  // `down --clean` removes files with the real rm.
  fs.symlinkSync(spawnSync("/bin/sh", ["-c", "command -v rm"], { encoding: "utf8" }).stdout.trim(), path.join(bin, "rm"));
  const log = path.join(projectDir, "calls.log");
  for (const fake of fakes) {
    const fail = fake === "bash" && failOn ? `[ "$1" = source/${failOn.script} ] && exit ${failOn.code}\n` : "";
    const last = fake === "bash" ? '[ "$2" = start ] && echo accel=tcg\n' : "";
    fs.writeFileSync(path.join(bin, fake), `#!/bin/bash\necho "${fake} $*" >> ${log}\n${fail}${last}exit 0\n`, { mode: 0o755 });
  }
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
  return { projectDir, bin, calls, online: true };
}

async function run(args: string[], box: ReturnType<typeof sandbox>) {
  let stdout = "";
  let stderr = "";
  const io = { out: (t: string) => (stdout += t), err: (t: string) => (stderr += t), env: { PATH: box.bin }, projectDir: box.projectDir, reachable: async () => box.online };
  const status = await main(args, io);
  return { status, stdout, stderr };
}

describe("npm run unikernel (scripts/unikernel.ts)", () => {
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const box = (fakes: readonly string[], failOn?: { script: string; code: number }) => {
    const b = sandbox(fakes, failOn);
    made.push(b.projectDir);
    return b;
  };

  it("refuses an unknown action, and --clean with up, with exit 2 and nothing run", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    const sideways = await run(["sideways"], b);
    assert.strictEqual(sideways.status, 2);
    assert.match(sideways.stderr, /unknown command 'sideways'[^]*npm run unikernel -- --help/);
    const clean = await run(["up", "--stack", STACK, "--clean"], b);
    assert.strictEqual(clean.status, 2);
    assert.match(clean.stderr, /unknown option '--clean'/);
    assert.deepStrictEqual(b.calls(), []);
  });

  it("names an unknown stack file and invalid config with exit 2", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    const unknown = await run(["up", "--stack", "nope"], b);
    assert.strictEqual(unknown.status, 2);
    assert.ok(unknown.stderr.includes(`no stack file ${path.join(b.projectDir, "Pulumi.nope.yaml")}`), unknown.stderr);
    fs.writeFileSync(path.join(b.projectDir, "Pulumi.bad.yaml"), STACK_FILE.replace("memoryMi: 320", "memoryMi: 4"));
    const bad = await run(["up", "--stack", "bad"], b);
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /stack "bad"[^]*optivolt:unikernel\.memoryMi: must be at least 16 .*, got 4/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
    assert.deepStrictEqual(b.calls(), []);
  });

  it("without QEMU, make or the build tools, up names each with its install command and runs nothing", async () => {
    const b = box(["bash", "docker"]);
    const result = await run(["up", "--stack", STACK], b);
    assert.strictEqual(result.status, 1);
    assert.strictEqual(
      result.stderr,
      "unikernel up: missing on the PATH, nothing was started:\n" +
        `  qemu-system-x86_64: ${QEMU_FIX}\n` +
        `  make, gcc, flex, bison, unzip: ${UNIKERNEL_BUILD_TOOLS_FIX}\n`,
    );
    assert.strictEqual(result.stdout, "");
    assert.deepStrictEqual(b.calls(), []);
  });

  it("up builds the kernel, then the initrd, then starts QEMU, with the stack's values, and says how to bench it", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    const result = await run(["up", "--stack", STACK], b);
    assert.strictEqual(result.status, 0, result.stderr);
    const build = path.join(b.projectDir, "unikernel", ".build", STACK);
    const pidFile = path.join(b.projectDir, "unikernel", ".run", STACK, "qemu.pid");
    const calls = b.calls().filter((c) => c.startsWith("bash "));
    assert.deepStrictEqual(calls.map((c) => c.split(" ").slice(0, 2).join(" ")), ["bash source/build-kernel.sh", "bash source/build-initrd.sh", "bash source/qemu.sh"]);
    assert.ok(calls[0].includes(`--out ${build}/kernel --unikraft ${path.join(b.projectDir, "vendor", "unikraft.tar.gz")} `), calls[0]);
    assert.ok(calls[1].includes(`--out ${build}/initrd.cpio --app-tag optivolt-unikernel-t-app:`), calls[1]);
    assert.match(calls[1], /--app-tag optivolt-unikernel-t-app:([0-9a-f]{12}) --payload-tag optivolt-unikernel-t-initrd:\1 /, "the Pulumi program's tags");
    assert.match(calls[2], /^bash source\/qemu\.sh start .*--memory 320 --accel tcg .*--forward 127\.0\.0\.1:18044 .*-- \/usr\/bin\/node \/app\/dist\/server\.js$/);
    assert.match(result.stdout, /^unikernel up: stack t, source builder \(the stack says builder kraft; this command always builds from source, with make and QEMU\)\n {2}guest: 320 MiB, 1 vCPU, accel asked tcg\n/);
    assert.ok(result.stdout.includes("running at http://127.0.0.1:18044\n  acceleration: tcg\n"), result.stdout);
    assert.ok(result.stdout.includes(`  QEMU pid file: ${pidFile}\n`), result.stdout);
    assert.ok(result.stdout.includes(`npm run bench -- --target unikernel=http://127.0.0.1:18044,cpus=1,memoryMb=320,pidFile=${pidFile},accel=tcg,isolation=unikernel\n`), result.stdout);
  });

  it("stops at a failing step with its name and exit 1, starting nothing after it", async () => {
    const b = box(["bash", ...BUILD_TOOLS], { script: "build-initrd.sh", code: 3 });
    const result = await run(["up", "--stack", STACK], b);
    assert.strictEqual(result.status, 1);
    assert.ok(result.stderr.endsWith("unikernel up: initrd build (docker) failed (exit 3); its output is above.\n"), result.stderr);
    assert.strictEqual(b.calls().length, 2);
  });

  it("down says it found nothing running; --clean removes the kernel, the initrd and only the images this checkout recorded", async () => {
    const b = box(["bash", "docker"]);
    const build = path.join(b.projectDir, "unikernel", ".build", STACK);
    fs.mkdirSync(path.join(build, "kernel"), { recursive: true });
    fs.writeFileSync(path.join(build, "initrd.cpio"), "");
    const stopped = await run(["down", "--stack", STACK], b);
    assert.strictEqual(stopped.status, 0, stopped.stderr);
    assert.match(b.calls()[0], /^bash source\/qemu\.sh stop --run-dir \S+\/unikernel\/\.run\/t --grace \d+$/);
    assert.match(stopped.stdout, /unikernel down: no QEMU was running for stack t; the kernel and initrd stay/);
    assert.doesNotMatch(stopped.stdout, /stopped QEMU/);
    assert.ok(fs.existsSync(build), "plain down keeps the build");

    // The fake docker answers no image ID: nothing is recorded as this checkout's, so no image is removed.
    const cleaned = await run(["down", "--stack", STACK, "--clean"], b);
    assert.strictEqual(cleaned.status, 0, cleaned.stderr);
    assert.deepStrictEqual(b.calls().slice(2), [], "no docker image rm, no docker image ls of the whole repository");
    assert.match(cleaned.stdout, /removed \S+\/kernel, \S+\/initrd\.cpio \(images another checkout built stay\)/);
    assert.ok(!fs.existsSync(build), `${build} is left`);
  });

  it("up while the stack's QEMU runs from the same inputs prints its URL and exits 0; from other inputs it says so", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    assert.strictEqual((await run(["up", "--stack", STACK], b)).status, 0);
    // A live process named like QEMU holds the pid file, as qemu.sh start leaves it.
    const qemu = path.join(b.bin, "qemu-system-x86_64");
    fs.copyFileSync(spawnSync("/bin/sh", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim(), qemu);
    const guest = spawn(qemu, ["30"], { stdio: "ignore" });
    try {
      fs.writeFileSync(path.join(b.projectDir, "unikernel", ".run", STACK, "qemu.pid"), `${guest.pid}\n`);
      const before = b.calls().length;
      const again = await run(["up", "--stack", STACK], b);
      assert.strictEqual(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`already running at http://127\\.0\\.0\\.1:18044 \\(QEMU pid ${guest.pid}, same inputs\\)`));
      assert.strictEqual(b.calls().length, before, "nothing rebuilt or restarted");
      fs.writeFileSync(path.join(b.projectDir, `Pulumi.${STACK}.yaml`), STACK_FILE.replace("memoryMi: 320", "memoryMi: 352"));
      const changed = await run(["up", "--stack", STACK], b);
      assert.strictEqual(changed.status, 1);
      assert.match(changed.stderr, /already runs stack t from other inputs .*down --stack t/);
    } finally {
      guest.kill();
    }
  });

  it("--help works on every subcommand", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    for (const args of [["--help"], ["up", "--help"], ["down", "--help"]]) {
      const result = await run(args, b);
      assert.strictEqual(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, /Usage: unikernel/);
    }
    assert.match((await run(["down", "--help"], b)).stdout, /--clean/);
    assert.deepStrictEqual(b.calls(), []);
  });

  it("refuses a stack name a shell would read, a YAML syntax error and a missing local archive with one line and exit 2", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    fs.writeFileSync(path.join(b.projectDir, "Pulumi.x;touch ran.yaml"), STACK_FILE);
    const injected = await run(["up", "--stack", "x;touch ran"], b);
    assert.strictEqual(injected.status, 2);
    assert.match(injected.stderr, /^stack name "x;touch .*" is not valid: use letters, digits, "_", "\." and "-" only/);
    assert.ok(!fs.existsSync(path.join(b.projectDir, "unikernel", "ran")), "no shell ran the name");
    fs.writeFileSync(path.join(b.projectDir, "Pulumi.broken.yaml"), "config:\n  optivolt:bindAddress: [1,\n");
    const broken = await run(["down", "--stack", "broken"], b);
    assert.strictEqual(broken.status, 2);
    assert.strictEqual(broken.stderr.trim().split("\n").length, 1, broken.stderr);
    assert.match(broken.stderr, /Pulumi\.broken\.yaml:3:1: YAML syntax error: /);
    fs.rmSync(path.join(b.projectDir, "vendor", "unikraft.tar.gz"));
    const absent = await run(["up", "--stack", STACK], b);
    assert.strictEqual(absent.status, 2);
    assert.match(absent.stderr, /optivolt:unikernel\.source\.archives\.unikraft is vendor\/unikraft\.tar\.gz, which does not exist/);
    assert.deepStrictEqual(b.calls(), []);
  });

  it("offline, a stack whose archives are URLs points to --stack ci before building anything", async () => {
    const b = box(["bash", ...BUILD_TOOLS]);
    fs.writeFileSync(path.join(b.projectDir, "Pulumi.online.yaml"), STACK_FILE.replace(/ {4}source:[^]*$/, ""));
    b.online = false;
    const result = await run(["up", "--stack", "online"], b);
    assert.strictEqual(result.status, 1);
    assert.match(result.stderr, /cannot reach github\.com .*offline, run `npm run unikernel -- up --stack ci`/);
    assert.deepStrictEqual(b.calls(), []);
  });
});
