import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, loadStackConfig, MICROVM_MEMORY_FLOOR_MB, parseStackEntries } from "../../model/config";
import {
  diskBuildCommand,
  kernelBuildCommand,
  microvmLayout,
  microvmStartCommand,
  microvmStopCommand,
  microvmTriggers,
} from "../../components/microvm/commands";
import { microvmPlan } from "../../components/microvm/buildPlan";
import { shellLine } from "../../components/unikernel/source";
import { parse as parseYaml } from "yaml";
import { labScrapeTargets } from "../../dashboards/prometheusConfig";
import { monitoringFiles } from "../../dashboards/provisioning";
import { bootSecondsFromStartOutput } from "../../scripts/vm";
import { runLabUnderMocks, stackEntries } from "../../policy/offline/mockedLab";

const PROJECT = path.resolve(__dirname, "../..");

function problemsOf(variant: Record<string, unknown>): string[] {
  const entries = stackEntries("dev");
  const variants = { ...(entries["optivolt:variants"] as Record<string, unknown>), "microvm-vm": variant };
  try {
    parseStackEntries({ ...entries, "optivolt:variants": variants }, "dev");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  assert.fail("the config was accepted");
}

const VM = { isolation: "microvm", cpus: 1, memoryMb: 256, hostPort: 8005 };

describe("micro-VM config: the isolation axis", () => {
  it("dev and ci hold microvm-vm (1 vCPU, 256 MiB) beside the containers; ci names the vendored packages", () => {
    const dev = loadStackConfig("dev");
    assert.deepStrictEqual(
      { cpus: dev.microvms["microvm-vm"].cpus, memoryMb: dev.microvms["microvm-vm"].memoryMb, hostPort: dev.microvms["microvm-vm"].hostPort },
      { cpus: 1, memoryMb: 256, hostPort: 8005 },
    );
    assert.ok(!("microvm-vm" in dev.variants), "the container table holds containers only");
    const ci = loadStackConfig("ci").microvms["microvm-vm"];
    assert.strictEqual(ci.hostPort, 18005);
    assert.match(ci.kernelPackage, /^\.\.\/shared\/vendor\/linux\/linux-image-.*\.deb$/);
    assert.match(ci.busyboxPackage, /^\.\.\/shared\/vendor\/linux\/busybox-static_.*\.deb$/);
    assert.strictEqual(dev.microvms["microvm-vm"].kernelPackage, "linux-image-cloud-amd64");
  });

  it("refuses fractional vCPUs", () => {
    assert.ok(problemsOf({ ...VM, cpus: 0.5 }).some((p) => /variants\.microvm-vm\.cpus: must be a whole number of vCPUs/.test(p)));
  });

  it("refuses memory under the measured floor, 128 MiB, with the figure and where it was measured", () => {
    assert.strictEqual(MICROVM_MEMORY_FLOOR_MB, 128);
    const problems = problemsOf({ ...VM, memoryMb: 127 });
    assert.ok(
      problems.some((p) => p.includes("must be at least 128 MiB") && p.includes("npm run vm:targets -- --floor") && p.includes("docs/microvm.md")),
      problems.join("\n"),
    );
    const entries = stackEntries("dev");
    const variants = { ...(entries["optivolt:variants"] as Record<string, unknown>), "microvm-vm": { ...VM, memoryMb: 128 } };
    assert.strictEqual(parseStackEntries({ ...entries, "optivolt:variants": variants }, "dev").microvms["microvm-vm"].memoryMb, 128);
  });

  it("refuses an unknown isolation with the list", () => {
    assert.ok(problemsOf({ ...VM, isolation: "firecracker" }).some((p) => /variants\.microvm-vm\.isolation: must be one of container, microvm/.test(p)));
  });

  it("refuses container keys on a micro-VM and a port another variant holds", () => {
    assert.ok(problemsOf({ ...VM, target: "microvm" }).some((p) => /unknown key\(s\).*target/.test(p)));
    assert.ok(problemsOf({ ...VM, hostPort: 8001 }).some((p) => /host port 8001 is already used by variant standard/.test(p)));
  });
});

describe("micro-VM commands", () => {
  const spec = loadStackConfig("ci").microvms["microvm-vm"];
  const layout = microvmLayout("ci", "microvm-vm");

  it("every path is relative to the project root, so another checkout runs the same lines", () => {
    const triggers = microvmTriggers(spec, loadStackConfig("ci").images, PROJECT);
    const lines = [
      kernelBuildCommand(spec, layout, triggers.kernel),
      diskBuildCommand(layout, triggers.disk),
      microvmStartCommand(spec, { layout, forwards: ["127.0.0.1:18005"], variant: "microvm-vm" }),
      microvmStopCommand(layout),
    ];
    for (const line of lines) assert.ok(!line.includes(PROJECT), line);
    assert.strictEqual(layout.payload, "unikernel/.build/ci/initrd.cpio", "the disk is made from the unikernel's initrd");
  });

  it("starts the linux guest with its disk, vCPUs, memory, cpuset, forwards and the app's environment", () => {
    const line = microvmStartCommand(spec, { layout, forwards: ["127.0.0.1:18005", "172.30.0.1:18005"], variant: "microvm-vm" });
    assert.match(line, /^bash unikernel\/source\/qemu\.sh start --guest linux --run-dir microvm\/\.run\/ci\/microvm-vm /);
    assert.match(line, / --disk microvm\/\.build\/ci\/microvm-vm\/disk\.squashfs /);
    assert.match(line, / --memory 256 --cpus 1 --accel auto /);
    assert.match(line, / --cpuset 0 --forward 127\.0\.0\.1:18005 --forward 172\.30\.0\.1:18005 /);
    assert.match(line, / --env VARIANT=microvm-vm .*--env WORKERS=1 --env SHUTDOWN_TIMEOUT_MS=5000 -- \/usr\/bin\/node \/app\/dist\/server\.js$/);
  });

  it("stops within the containers' grace period (the app's drain plus a margin)", () => {
    assert.strictEqual(microvmStopCommand(layout), "bash unikernel/source/qemu.sh stop --run-dir microvm/.run/ci/microvm-vm --grace 10");
  });

  it("reads the boot time qemu.sh prints", () => {
    assert.strictEqual(bootSecondsFromStartOutput("unikernel qemu: http://127.0.0.1:18005/health answered 7.9 s after QEMU started\naccel=tcg\n"), 7.9);
    assert.strictEqual(bootSecondsFromStartOutput("accel=tcg\n"), undefined);
  });
});

describe("micro-VM triggers", () => {
  const images = loadStackConfig("ci").images;
  const spec = loadStackConfig("ci").microvms["microvm-vm"];
  let copy: string;

  before(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-microvm-"));
    for (const file of ["microvm/build-kernel.sh", "microvm/init", "microvm/build-disk.sh", "unikernel/source/qemu.sh", "unikernel/wait-for-health.ts"]) {
      fs.mkdirSync(path.join(copy, path.dirname(file)), { recursive: true });
      fs.copyFileSync(path.join(PROJECT, file), path.join(copy, file));
    }
  });
  after(() => fs.rmSync(copy, { recursive: true, force: true }));

  it("the kernel moves with the init and the packages, the disk with the kernel and the payload, the run with both", () => {
    const base = microvmTriggers(spec, images, copy);
    assert.deepStrictEqual(microvmTriggers(spec, images, copy), base, "the same inputs give the same triggers");
    const otherKernel = microvmTriggers({ ...spec, kernelPackage: "linux-image-cloud-amd64" }, images, copy);
    assert.notStrictEqual(otherKernel.kernel, base.kernel);
    assert.notStrictEqual(otherKernel.disk, base.disk);
    assert.notStrictEqual(otherKernel.run, base.run);
    const otherPayload = microvmTriggers(spec, { ...images, nodeImage: "debian:bookworm" }, copy);
    assert.strictEqual(otherPayload.kernel, base.kernel, "the payload does not rebuild the kernel");
    assert.notStrictEqual(otherPayload.disk, base.disk);
    fs.appendFileSync(path.join(copy, "microvm/init"), "\n# changed\n");
    const otherInit = microvmTriggers(spec, images, copy);
    assert.notStrictEqual(otherInit.kernel, base.kernel);
    fs.appendFileSync(path.join(copy, "unikernel/source/qemu.sh"), "\n# changed\n");
    const otherRunner = microvmTriggers(spec, images, copy);
    assert.strictEqual(otherRunner.disk, otherInit.disk);
    assert.notStrictEqual(otherRunner.run, otherInit.run);
  });
});

describe("micro-VM under mocks (ci stack)", function () {
  this.timeout(60_000);

  it("kernel → disk → run, parented to the component, one trigger each, from the project root; the disk waits for the kernel and the unikernel's initrd step", async () => {
    const run = await runLabUnderMocks("ci");
    const step = (name: string) => {
      const found = run.resources.find((r) => r.type === "command:local:Command" && r.name === name);
      assert.ok(found, `no command ${name}`);
      return found;
    };
    for (const name of ["microvm-vm-kernel", "microvm-vm-disk", "microvm-vm-run"]) {
      assert.deepStrictEqual(step(name).parent, { type: "optivolt:lab:Microvm", name: "microvm-vm" }, name);
      assert.ok(Array.isArray(step(name).inputs.triggers) && step(name).inputs.triggers.length === 1, name);
      assert.ok(!("dir" in step(name).inputs), `${name} runs from the project root`);
    }
    assert.deepStrictEqual(step("microvm-vm-disk").dependsOn.map((d) => d.name).sort(), ["microvm-vm-kernel", "unikernel-initrd"]);
    assert.ok(step("microvm-vm-run").dependsOn.some((d) => d.name === "microvm-vm-disk"));
    assert.match(step("microvm-vm-run").inputs.create, / --forward 127\.0\.0\.1:18005 --forward 172\.30\.0\.1:18005 /);
    assert.strictEqual(run.outputs.endpoints["microvm-vm"], "http://127.0.0.1:18005");
    assert.deepStrictEqual(run.outputs.variants["microvm-vm"], {
      isolation: "microvm",
      cpus: 1,
      memoryMb: 256,
      runtime: "node",
      url: "http://127.0.0.1:18005",
      status: "running",
      pidFile: path.join(PROJECT, "microvm/.run/ci/microvm-vm/qemu.pid"),
    });
    assert.strictEqual(run.outputs.variants.unikernel.isolation, "unikernel");
    const prometheus = run.resources.find((r) => r.type === "docker:index/container:Container" && /prometheus$/.test(r.name));
    const uploads = prometheus!.inputs.uploads as { file: string; content: string }[];
    const scrape = parseYaml(uploads.find((u) => u.file === "/etc/prometheus/prometheus.yml")!.content).scrape_configs as { job_name: string; static_configs: unknown[] }[];
    assert.deepStrictEqual(scrape.find((job) => job.job_name === "microvm")?.static_configs, [
      { targets: ["172.30.0.1:18005"], labels: { variant: "microvm-vm", runtime: "node", isolation: "microvm" } },
    ]);
    const files = monitoringFiles(run.config, { ...labScrapeTargets(run.config), microvms: { "microvm-vm": "172.30.0.1:18005" } });
    assert.ok(files.grafana.some((file) => file.file.endsWith(".json") && /microvm-vm/.test(file.content)), "the dashboard lists the micro-VM");
  });

  it("every step is replaced on any change, removing its old self first (never an Update without the old delete)", async () => {
    const run = await runLabUnderMocks("ci", { "optivolt:unikernel": { enabled: false } });
    for (const name of ["microvm-vm-payload", "microvm-vm-kernel", "microvm-vm-disk", "microvm-vm-run"]) {
      const step = run.resources.find((r) => r.type === "command:local:Command" && r.name === name);
      assert.ok(step, `no command ${name}`);
      assert.strictEqual(step.options.deleteBeforeReplace, true, name);
      assert.ok(step.options.replaceOnChanges?.includes("*"), `${name}: pulumi-command's Update would run create without the old delete`);
    }
  });

  it("npm run vm and vm:targets run the program's own command lines: one plan, the same steps", async () => {
    const run = await runLabUnderMocks("ci", { "optivolt:unikernel": { enabled: false } });
    const create = (name: string) => run.resources.find((r) => r.type === "command:local:Command" && r.name === name)?.inputs.create;
    const plan = microvmPlan("ci", "microvm-vm", run.config.microvms["microvm-vm"], run.config.images, PROJECT);
    assert.strictEqual(shellLine(plan.payload.argv), create("microvm-vm-payload"));
    assert.strictEqual(plan.payload.cwd, path.join(PROJECT, "unikernel"));
    assert.strictEqual(shellLine(plan.kernel), create("microvm-vm-kernel"));
    assert.strictEqual(shellLine(plan.disk), create("microvm-vm-disk"));
    assert.strictEqual(shellLine(plan.start(["127.0.0.1:18005", "172.30.0.1:18005"])), create("microvm-vm-run"));
    assert.match(shellLine(plan.start(["127.0.0.1:18005"], { memoryMb: 160 })), / --memory 160 /, "the floor search's size");
  });

  it("makes the payload itself, once, when the unikernel does not build one", async () => {
    const run = await runLabUnderMocks("ci", { "optivolt:unikernel": { enabled: false } });
    const payloads = run.resources.filter((r) => r.type === "command:local:Command" && /initrd|payload/.test(r.name));
    assert.deepStrictEqual(payloads.map((r) => r.name), ["microvm-vm-payload"]);
    assert.match(payloads[0].inputs.create, /^bash source\/build-initrd\.sh --out \.\.\/unikernel\/\.build\/ci\/initrd\.cpio /);
  });
});

describe("npm run vm:targets: bad input is one line and exit 2, before anything is built", function () {
  this.timeout(120_000);
  const targets = (...args: string[]) =>
    spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(PROJECT, "bench/studies/microvmGoals.ts"), ...args], { cwd: PROJECT, encoding: "utf8" });

  it("--boots must be a whole number of at least 1", () => {
    const result = targets("--boots", "0");
    assert.strictEqual(result.status, 2, result.stderr);
    assert.strictEqual(result.stderr, "vm:targets: --boots must be a whole number of boots, at least 1, got 0\n");
  });

  it("--floor is a switch: a size after it is refused with the usage hint, the help names its range", () => {
    for (const args of [["--floor", "128"], ["--floor=128"]]) {
      const result = targets(...args);
      assert.strictEqual(result.status, 2, result.stderr);
      assert.match(result.stderr, /^error: (too many arguments|unknown option '--floor=128').*\n\(run `npm run vm:targets -- --help` for usage\)\n$/s);
    }
    const help = targets("--help");
    assert.strictEqual(help.status, 0, help.stderr);
    assert.match(help.stdout, /--floor +then search the memory floor \(96\.\.256 MiB, 32 MiB steps\)/);
  });

  it("a variant the stack does not run as a micro-VM is named with the ones it does", () => {
    const result = targets("--variant", "standard");
    assert.strictEqual(result.status, 2, result.stderr);
    assert.strictEqual(result.stderr, "vm:targets: the ci stack has no micro-VM named standard; use one of microvm-vm\n");
  });

  it("a stack without a stack file is the config error, not a stack trace", () => {
    const result = targets("--stack", "nosuch");
    assert.strictEqual(result.status, 2, result.stderr);
    assert.match(result.stderr, /no stack file .*Pulumi\.nosuch\.yaml/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
