// scripts/unikernel.ts (`npm run unikernel -- up|down`) on a PATH the test builds: fake `bash` (which
// the steps' command lines call), QEMU, make, the build tools and docker, recording how they were
// called, and a stack file of the test's own, so nothing is built or booted.
import * as assert from "assert";
import { spawnSync } from "child_process";
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
`;
const BUILD_TOOLS = ["qemu-system-x86_64", "make", "gcc", "flex", "bison", "unzip", "docker"];

/**
 * A project folder holding the stack file, and a PATH folder of fakes appending `name args` to
 * calls.log; the fake bash prints what qemu.sh start prints last, and exits `failOn`'s code on that script.
 */
function sandbox(fakes: readonly string[], failOn?: { script: string; code: number }) {
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-cli-"));
  fs.writeFileSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), STACK_FILE);
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
  return { projectDir, bin, calls };
}

async function run(args: string[], box: ReturnType<typeof sandbox>) {
  let stdout = "";
  let stderr = "";
  const io = { out: (t: string) => (stdout += t), err: (t: string) => (stderr += t), env: { PATH: box.bin }, projectDir: box.projectDir };
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
    assert.match(sideways.stderr, /'sideways' is invalid[^]*Allowed choices are up, down[^]*npm run unikernel -- --help/);
    const clean = await run(["up", "--stack", STACK, "--clean"], b);
    assert.deepStrictEqual([clean.status, clean.stderr], [2, "unikernel: --clean goes with down (it removes what up built)\n"]);
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
    const calls = b.calls();
    assert.deepStrictEqual(calls.map((c) => c.split(" ").slice(0, 2).join(" ")), ["bash source/build-kernel.sh", "bash source/build-initrd.sh", "bash source/qemu.sh"]);
    assert.ok(calls[0].includes(`--out ${build}/kernel --unikraft ${path.join(b.projectDir, "vendor", "unikraft.tar.gz")} `), calls[0]);
    assert.ok(calls[1].includes(`--out ${build}/initrd.cpio --app-tag optivolt-unikernel-t-app:`), calls[1]);
    assert.match(calls[1], /--app-tag optivolt-unikernel-t-app:([0-9a-f]{12}) --payload-tag optivolt-unikernel-t-initrd:\1 /, "the Pulumi program's tags");
    assert.match(calls[2], /^bash source\/qemu\.sh start .*--memory 320 --accel tcg .*--forward 127\.0\.0\.1:18044 .*-- \/usr\/bin\/node \/app\/dist\/server\.js$/);
    assert.match(result.stdout, /^unikernel up: stack t, source builder \(the stack says builder kraft; this command always builds from source, with make and QEMU\)\n {2}guest: 320 MiB, 1 vCPU, accel asked tcg\n/);
    assert.ok(result.stdout.includes("running at http://127.0.0.1:18044\n  acceleration: tcg\n"), result.stdout);
    assert.ok(result.stdout.includes(`  QEMU pid file: ${pidFile}\n`), result.stdout);
    assert.ok(result.stdout.includes(`npm run bench -- --target unikernel=http://127.0.0.1:18044,cpus=1,memoryMb=320,pidFile=${pidFile},accel=tcg\n`), result.stdout);
  });

  it("stops at a failing step with its name and exit 1, starting nothing after it", async () => {
    const b = box(["bash", ...BUILD_TOOLS], { script: "build-initrd.sh", code: 3 });
    const result = await run(["up", "--stack", STACK], b);
    assert.strictEqual(result.status, 1);
    assert.ok(result.stderr.endsWith("unikernel up: initrd build (docker) failed (exit 3); its output is above.\n"), result.stderr);
    assert.strictEqual(b.calls().length, 2);
  });

  it("down stops QEMU; --clean also removes the kernel, the initrd, its images and the stack's build folder", async () => {
    const b = box(["bash", "docker"]);
    const build = path.join(b.projectDir, "unikernel", ".build", STACK);
    fs.mkdirSync(path.join(build, "kernel"), { recursive: true });
    fs.writeFileSync(path.join(build, "initrd.cpio"), "");
    const stopped = await run(["down", "--stack", STACK], b);
    assert.strictEqual(stopped.status, 0, stopped.stderr);
    assert.match(b.calls()[0], /^bash source\/qemu\.sh stop --run-dir \S+\/unikernel\/\.run\/t --grace \d+$/);
    assert.ok(fs.existsSync(build), "plain down keeps the build");

    const cleaned = await run(["down", "--stack", STACK, "--clean"], b);
    assert.strictEqual(cleaned.status, 0, cleaned.stderr);
    const removals = b.calls().slice(2);
    assert.match(removals[0], /^docker image rm --force optivolt-unikernel-t-initrd:([0-9a-f]{12}) optivolt-unikernel-t-app:\1$/);
    assert.deepStrictEqual(
      removals.slice(1),
      ["docker image ls --format {{.Repository}}:{{.Tag}} --filter reference=optivolt-unikernel-t-app --filter reference=optivolt-unikernel-t-initrd"],
      "then every older build of the stack's two repositories",
    );
    assert.ok(!fs.existsSync(build), `${build} is left`);
  });
});
