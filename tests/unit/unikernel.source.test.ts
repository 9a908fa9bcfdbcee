// The source builder (Unikraft built with make, run by QEMU) under Pulumi mocks: which builder is
// chosen for every machine, the three command resources, their triggers, and the outputs.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { unikernelSchema } from "../../model/config/unikernel";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { PreflightError } from "../../components/preflight";
import { decideUnikernel, HostProbes, labNetworkGateway, sourceForwards, Unikernel, UnikernelArgs } from "../../components/unikernel";
import { INITRD_BUILD_INPUTS, KERNEL_BUILD_INPUTS, RUN_INPUTS } from "../../components/unikernel/source";
import { SourceTriggers, sourceTriggers } from "../../components/unikernel/sourceBuild";

const IMAGES: ImagesConfig = { ...LOCAL_BASE_IMAGES, buildNetwork: "host" };
const PROJECT = "/srv/optivolt";

/** A machine with exactly `tools` on the PATH; `files` lists the local archives that exist (all by default). */
function machine(tools: readonly string[], files?: readonly string[]): HostProbes & { asked: string[]; looked: string[] } {
  const asked: string[] = [];
  const looked: string[] = [];
  return {
    asked,
    looked,
    commandOnPath: (name) => (asked.push(name), tools.includes(name)),
    kvmUsable: () => false,
    fileExists: (file) => (looked.push(file), files === undefined || files.includes(file)),
  };
}

const BUILD_TOOLS = ["qemu-system-x86_64", "make", "gcc", "flex", "bison", "unzip"];

function config(overrides: Record<string, unknown> = {}): UnikernelConfig {
  return unikernelSchema.parse(overrides);
}

describe("unikernel builder choice", () => {
  describe("builder auto, for every combination of kraft, qemu-system-x86_64 and make", () => {
    for (const kraft of [true, false]) {
      for (const qemu of [true, false]) {
        for (const make of [true, false]) {
          const tools = [...(kraft ? ["kraft"] : []), ...(qemu ? ["qemu-system-x86_64"] : []), ...(make ? ["make"] : []), "gcc", "flex", "bison", "unzip"];
          const missing = [...(qemu ? [] : ["qemu-system-x86_64"]), ...(make ? [] : ["make"])];
          it(`kraft ${kraft}, qemu ${qemu}, make ${make}`, () => {
            const decision = decideUnikernel(config(), machine(tools), PROJECT);
            if (kraft) assert.deepStrictEqual(decision, { deploy: true, builder: "kraft", emulation: true });
            else if (missing.length === 0) assert.deepStrictEqual(decision, { deploy: true, builder: "source" });
            else {
              assert.strictEqual(decision.deploy, false);
              assert.strictEqual(decision.deploy === false && decision.status, `skipped: ${["kraft", ...missing].map((t) => `no ${t}`).join(", ")}`);
              // One warning names both ways out.
              const warning = decision.deploy === false ? decision.warning ?? "" : "";
              assert.match(warning, /get\.kraftkit\.sh/);
              assert.match(warning, /apt-get install --no-install-recommends qemu-system-x86 build-essential flex bison unzip/);
              assert.throws(
                () => decideUnikernel(config({ enabled: true }), machine(tools), PROJECT),
                (error: unknown) => error instanceof PreflightError && /enabled is true but no builder can run here/.test(error.message) && /KraftKit.*qemu-system-x86/.test(error.message),
              );
            }
          });
        }
      }
    }
  });

  it("the status names only the missing programs: no kraft, no make", () => {
    const decision = decideUnikernel(config(), machine(["qemu-system-x86_64"]), PROJECT);
    assert.deepStrictEqual(decision.deploy === false && decision.status, "skipped: no kraft, no make");
  });

  it("source (chosen or picked by auto) names each missing build tool: skipped under auto, an error under enabled true", () => {
    for (const builder of ["source", "auto"]) {
      const tools = ["qemu-system-x86_64", "make", "gcc", "unzip"];
      const decision = decideUnikernel(config({ builder }), machine(tools), PROJECT);
      assert.strictEqual(decision.deploy === false && decision.status, "skipped: no flex, no bison", builder);
      assert.match(decision.deploy === false ? decision.warning ?? "" : "", /needs `flex`, `bison`, not on the PATH\. To deploy it, .*apt-get install/);
      assert.throws(
        () => decideUnikernel(config({ builder, enabled: true }), machine(tools), PROJECT),
        (error: unknown) => error instanceof PreflightError && /source builder needs `flex`, `bison`/.test(error.message),
      );
    }
  });

  it("builder source ignores kraft; builder kraft ignores QEMU", () => {
    assert.deepStrictEqual(decideUnikernel(config({ builder: "source" }), machine(["kraft", ...BUILD_TOOLS]), PROJECT), { deploy: true, builder: "source" });
    const kraftOnly = decideUnikernel(config({ builder: "kraft" }), machine(BUILD_TOOLS), PROJECT);
    assert.deepStrictEqual(kraftOnly.deploy === false && kraftOnly.status, "skipped: kraft not found");
  });

  it("enabled false asks the machine nothing", () => {
    const probes = machine([]);
    assert.deepStrictEqual(decideUnikernel(config({ enabled: false }), probes, PROJECT), { deploy: false, status: "disabled" });
    assert.deepStrictEqual([probes.asked, probes.looked], [[], []]);
  });

  it("a local archive that does not exist is an error naming the key, the path and the fix; URLs are not looked up", () => {
    const archives = { unikraft: "../vendor/unikraft.tar.gz", lwipZip: "/abs/lwip.zip" };
    const present = machine(BUILD_TOOLS, ["/srv/vendor/unikraft.tar.gz"]);
    assert.throws(
      () => decideUnikernel(config({ builder: "source", source: { archives, sha256: { unikraft: "b".repeat(64), lwipZip: "b".repeat(64) } } }), present, PROJECT),
      (error: unknown) =>
        error instanceof PreflightError &&
        /optivolt:unikernel\.source\.archives\.lwipZip is \/abs\/lwip\.zip, which does not exist/.test(error.message) &&
        /remove the key to download the upstream release/.test(error.message) &&
        !/archives\.unikraft/.test(error.message),
    );
    assert.deepStrictEqual(present.looked, ["/srv/vendor/unikraft.tar.gz", "/abs/lwip.zip"], "relative paths resolve against the project root");
  });
});

describe("unikernel network reach", () => {
  it("takes the network's IPv4 gateway, skipping an IPv6 one", () => {
    assert.strictEqual(labNetworkGateway([{ subnet: "fd00::/64", gateway: "fd00::1" }, { subnet: "172.18.0.0/16", gateway: "172.18.0.1" }], "lab"), "172.18.0.1");
  });

  it("fails with the network's name when there is no IPv4 gateway", () => {
    assert.throws(() => labNetworkGateway([{ subnet: "172.18.0.0/16" }], "optivolt-lab"), /the Docker network optivolt-lab reports no IPv4 gateway/);
    assert.throws(() => labNetworkGateway(undefined, "optivolt-lab"), /no IPv4 gateway/);
  });

  it("forwards the bind address first, then the gateway; 0.0.0.0 already covers the gateway", () => {
    assert.deepStrictEqual(sourceForwards("127.0.0.1", 8004, "172.18.0.1"), ["127.0.0.1:8004", "172.18.0.1:8004"]);
    assert.deepStrictEqual(sourceForwards("0.0.0.0", 8004, "172.18.0.1"), ["0.0.0.0:8004"]);
    assert.deepStrictEqual(sourceForwards("172.18.0.1", 8004, "172.18.0.1"), ["172.18.0.1:8004"]);
    assert.deepStrictEqual(sourceForwards("127.0.0.1", 8004), ["127.0.0.1:8004"]);
  });
});

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Builds the component with the source decision inside a mocked stack named `unit`; the run step prints `stdout`. */
async function deploySource(overrides: Record<string, unknown>, extra: Partial<UnikernelArgs> = {}, stdout = "accel=tcg\n") {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const computed = args.type === "command:local:Command" ? { stdout: args.name.endsWith("-run") ? stdout : "", stderr: "" } : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...computed } };
      },
      call: (args) => args.inputs,
    },
    "optivolt",
    "unit",
    false,
  );
  const options: Record<string, pulumi.CustomResourceOptions> = {};
  const warnings: string[] = [];
  let uk: Unikernel | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      options[args.name] = args.opts as pulumi.CustomResourceOptions;
      return undefined;
    });
    const parsed = config({ builder: "source", ...overrides });
    uk = new Unikernel("unikernel", {
      config: parsed,
      images: IMAGES,
      instanceName: "optivolt-lab-unikernel",
      bindAddress: "127.0.0.1",
      decision: decideUnikernel(parsed, machine(BUILD_TOOLS), extra.projectDir ?? PROJECT),
      gateway: "172.18.0.1",
      warn: (message) => warnings.push(message),
      projectDir: PROJECT,
      ...extra,
    });
  });
  const variant = await promiseOf(uk!.variant);
  const scrapeTarget = uk!.scrapeTarget === undefined ? undefined : await promiseOf(uk!.scrapeTarget);
  await new Promise((resolve) => setImmediate(resolve));
  const steps = new Map(registered.filter((r) => r.type === "command:local:Command").map((r) => [r.name, r.inputs]));
  return { steps, options, variant, scrapeTarget, warnings };
}

describe("Unikernel component, source builder (mocked Pulumi)", function () {
  this.timeout(20_000);

  it("kernel, initrd and run steps, in unikernel/, with the stack's paths and the exact commands", async () => {
    const { steps } = await deploySource({});
    assert.deepStrictEqual([...steps.keys()], ["unikernel-kernel", "unikernel-initrd", "unikernel-run"]);
    for (const step of steps.values()) assert.strictEqual(step.dir, "unikernel");

    const kernel = steps.get("unikernel-kernel")!;
    assert.strictEqual(
      kernel.create,
      "bash source/build-kernel.sh --out .build/unit/kernel" +
        " --unikraft https://github.com/unikraft/unikraft/archive/refs/tags/RELEASE-0.16.3.tar.gz" +
        " --unikraft-sha256 382646df4432ce3b933b7bbf4a08f4babb228e309dacfcee75073b6836682357" +
        " --app-elfloader https://github.com/unikraft/app-elfloader/archive/refs/tags/RELEASE-0.16.3.tar.gz" +
        " --app-elfloader-sha256 134842d7ef8ed54cd56b4cbbefc3dde6e1fe908211d32ebc4f9cf79b5f135b5e" +
        " --lib-lwip https://github.com/unikraft/lib-lwip/archive/refs/tags/RELEASE-0.16.2.tar.gz" +
        " --lib-lwip-sha256 9122cde749bf60e2529a103dfa0e4ebcd31de9256fd43e31a0b3c9254946b11e" +
        " --lib-libelf https://github.com/unikraft/lib-libelf/archive/refs/tags/RELEASE-0.16.0.tar.gz" +
        " --lib-libelf-sha256 529b44e67f8eab2b42305c4dd2f3fa4aee9470903fd3af8e50c0bc8539554487" +
        // A commit, not lib-lwip's moving branch.
        " --lwip-zip https://github.com/unikraft/fork-lwip/archive/bef26c44236a078d4352e76392ef16f019bea501.zip" +
        " --lwip-zip-sha256 a01e52e600628c4b4ed833b1c1da3c5a7dbab573a51e91bd505fdd4ca8eaf7f6",
    );
    assert.strictEqual(kernel.delete, "rm -rf .build/unit/kernel");

    const initrd = steps.get("unikernel-initrd")!;
    const tag = String(initrd.triggers[0]).slice(0, 12);
    assert.strictEqual(
      initrd.create,
      `bash source/build-initrd.sh --out .build/unit/initrd.cpio --app-tag optivolt-unikernel-unit-app:${tag} ` +
        `--payload-tag optivolt-unikernel-unit-initrd:${tag} --debian-image optivolt/node:22-bookworm --node-image optivolt/node:22-bookworm --network host`,
    );
    assert.match(initrd.delete, new RegExp(`^docker image rm --force optivolt-unikernel-unit-initrd:${tag} optivolt-unikernel-unit-app:${tag} .*; rm -f \\.build/unit/initrd\\.cpio$`));

    const run = steps.get("unikernel-run")!;
    assert.strictEqual(
      run.create,
      "bash source/qemu.sh start --run-dir .run/unit --kernel .build/unit/kernel/elfloader_qemu-x86_64 " +
        "--initrd .build/unit/initrd.cpio --memory 480 --accel auto --tcg-cache 32 --timeout 120 " +
        "--forward 127.0.0.1:8004 --forward 172.18.0.1:8004 --env PORT=8000 --env VARIANT=unikernel --env NODE_ENV=production --env WORKERS=1 " +
        "-- /usr/bin/node /app/dist/server.js",
    );
    assert.strictEqual(run.delete, "bash source/qemu.sh stop --run-dir .run/unit --grace 5");
  });

  it("memory, acceleration, TCG cache, port and health deadline reach QEMU from the config", async () => {
    const { steps } = await deploySource({ memoryMi: 448, accel: "tcg", tcgCacheMi: 64, hostPort: 9104, healthTimeoutSeconds: 30 });
    const create = steps.get("unikernel-run")!.create as string;
    assert.match(create, / --memory 448 --accel tcg --tcg-cache 64 --timeout 30 --forward 127\.0\.0\.1:9104 --forward 172\.18\.0\.1:9104 /);
  });

  it("a cpuset pins QEMU (--cpuset); without one QEMU may run anywhere", async () => {
    const pinned = (await deploySource({ cpuset: "1" })).steps.get("unikernel-run")!.create as string;
    assert.match(pinned, / --timeout 120 --cpuset 1 --forward /);
    const free = (await deploySource({})).steps.get("unikernel-run")!.create as string;
    assert.doesNotMatch(free, /--cpuset/);
  });

  it("local archives reach make relative to the project root as seen from unikernel/; absolute ones as they are", async () => {
    const relative = await deploySource({ source: { archives: { unikraft: "../shared/vendor/unikraft/unikraft-RELEASE-0.16.3.tar.gz" }, sha256: { unikraft: "b".repeat(64) } } });
    assert.match(relative.steps.get("unikernel-kernel")!.create, / --unikraft \.\.\/\.\.\/shared\/vendor\/unikraft\/unikraft-RELEASE-0\.16\.3\.tar\.gz /);
    const absolute = await deploySource({ source: { archives: { unikraft: "/opt/unikraft.tar.gz" }, sha256: { unikraft: "b".repeat(64) } } });
    assert.match(absolute.steps.get("unikernel-kernel")!.create, / --unikraft \/opt\/unikraft\.tar\.gz /);
  });

  it("another clone of the same stack sees no change: no input of any step names the clone's folder", async () => {
    // pulumi-command v1.2.1 (provider/pkg/provider/local/commandController.go, common/inputs.go):
    // `triggers` is replaceOnChanges; any other input that differs (`create`, `delete`, `dir`,
    // `environment`) is an Update, which runs `create` again and never the old `delete`. So two
    // clones with the same files must give every step the same inputs, and a step re-runs only when
    // its trigger (the hash of what it is made from) changes.
    const clone = (name: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ovtest-unikernel-${name}-`));
      for (const file of [...KERNEL_BUILD_INPUTS, ...INITRD_BUILD_INPUTS, ...RUN_INPUTS]) {
        const from = path.resolve(__dirname, "..", "..", file);
        if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, file), { recursive: true });
      }
      return dir;
    };
    const [first, second] = [clone("a"), clone("b")];
    try {
      const [a, b] = [await deploySource({}, { projectDir: first }), await deploySource({}, { projectDir: second })];
      for (const step of ["unikernel-kernel", "unikernel-initrd", "unikernel-run"]) {
        assert.deepStrictEqual(b.steps.get(step), a.steps.get(step), step);
        assert.ok(!JSON.stringify(a.steps.get(step)).includes(first), `${step} names no folder of the clone`);
      }
      // The outputs still say where this clone's files are (the bench reads QEMU's pid file).
      assert.strictEqual(a.variant.pidFile, path.join(first, "unikernel", ".run", "unit", "qemu.pid"));
    } finally {
      for (const dir of [first, second]) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every step is replaced on any change, removing its old self first (never an Update without the old delete); all parented to the component", async () => {
    const { options } = await deploySource({});
    for (const step of ["unikernel-kernel", "unikernel-initrd", "unikernel-run"]) {
      assert.strictEqual(options[step].deleteBeforeReplace, true, step);
      assert.ok(options[step].replaceOnChanges?.includes("*"), `${step}: pulumi-command's Update would run create without the old delete`);
      assert.ok(options[step].parent instanceof Unikernel, `${step} is parented to the component`);
    }
  });

  it("runs with the accelerator the start step printed, and says so in status; the variant carries builder, accel and pid file", async () => {
    const tcg = await deploySource({});
    assert.deepStrictEqual(tcg.variant, {
      cpus: 1,
      memoryMb: 480,
      runtime: "node",
      url: "http://127.0.0.1:8004",
      status: "running (TCG emulation)",
      builder: "source",
      accel: "tcg",
      pidFile: "/srv/optivolt/unikernel/.run/unit/qemu.pid",
    });
    assert.strictEqual(tcg.scrapeTarget, "172.18.0.1:8004");
    const kvm = await deploySource({}, {}, "unikernel qemu: started\naccel=kvm\n");
    assert.strictEqual(kvm.variant.status, "running (KVM)");
    assert.strictEqual(kvm.variant.accel, "kvm");
    const silent = await deploySource({}, {}, "");
    assert.strictEqual(silent.variant.status, "running");
    assert.ok(!("accel" in silent.variant), "an accelerator the start step did not name is left out, not guessed");
  });

  it("binding every address: one forward, and the URL names loopback; without a gateway nothing is scraped", async () => {
    const { steps, variant, scrapeTarget } = await deploySource({}, { bindAddress: "0.0.0.0", gateway: undefined });
    assert.match(steps.get("unikernel-run")!.create, / --forward 0\.0\.0\.0:8004 --env /);
    assert.strictEqual(variant.url, "http://127.0.0.1:8004");
    assert.strictEqual(scrapeTarget, undefined);
  });

  it("skipped for missing build tools: no step, one warning, the status says which", async () => {
    const registered: string[] = [];
    await pulumi.runtime.setMocks({ newResource: (args) => (registered.push(args.type), { id: "id", state: args.inputs }), call: (args) => args.inputs }, "optivolt", "unit", false);
    const warnings: string[] = [];
    let uk: Unikernel | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
      const parsed = config({ builder: "source" });
      uk = new Unikernel("unikernel", {
        config: parsed,
        images: IMAGES,
        instanceName: "optivolt-lab-unikernel",
        bindAddress: "127.0.0.1",
        decision: decideUnikernel(parsed, machine(["qemu-system-x86_64", "make", "gcc", "flex", "bison"]), PROJECT),
        warn: (message) => warnings.push(message),
      });
    });
    assert.deepStrictEqual(await promiseOf(uk!.variant), { cpus: 1, memoryMb: 480, runtime: "node", status: "skipped: no unzip" });
    assert.strictEqual(uk!.url, undefined);
    assert.strictEqual(warnings.length, 1);
    assert.ok(!registered.includes("command:local:Command"));
  });
});

describe("source builder triggers: each step re-runs when its inputs change, and only then", function () {
  this.timeout(20_000);
  let projectDir = "";
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(projectDir, file)), { recursive: true });
    fs.writeFileSync(path.join(projectDir, file), content);
  };
  const triggers = (overrides: Record<string, unknown> = {}, nodeImage = IMAGES.nodeImage) => sourceTriggers(config(overrides), { nodeImage }, projectDir);

  beforeEach(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-source-"));
    for (const input of [...KERNEL_BUILD_INPUTS, ...INITRD_BUILD_INPUTS, ...RUN_INPUTS]) write(path.extname(input) === "" && input.endsWith("src") ? `${input}/server.ts` : input, `${input}\n`);
  });
  afterEach(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  it("nothing changed, or only a file no step is made from: the same three hashes", () => {
    const before = triggers();
    write("README.md", "notes\n");
    write("unikernel/Kraftfile", "changed\n");
    assert.deepStrictEqual(triggers(), before);
  });

  /** Applies `change`, then checks that the hash of `step` moved and the other two did not. */
  const expectOnly = (step: keyof SourceTriggers, label: string, change: () => void, after: () => SourceTriggers = () => triggers()) => {
    const before = triggers();
    change();
    const now = after();
    for (const key of ["kernel", "initrd", "run"] as const) {
      if (key === step) assert.notStrictEqual(now[key], before[key], `${label} moves the ${key} hash`);
      else assert.strictEqual(now[key], before[key], `${label} leaves the ${key} hash`);
    }
  };

  it("the defconfig or the build script: the kernel's alone", () => {
    for (const file of KERNEL_BUILD_INPUTS) expectOnly("kernel", file, () => write(file, "changed\n"));
  });

  it("an archive location: the kernel's alone", () => {
    expectOnly("kernel", "libLwip", () => undefined, () => triggers({ source: { archives: { libLwip: "../vendor/lib-lwip.tar.gz" }, sha256: { libLwip: "b".repeat(64) } } }));
  });

  it("the app's sources, the initrd recipe or the Debian image: the initrd's alone", () => {
    for (const file of ["images/src/server.ts", "unikernel/source/Dockerfile", "unikernel/source/build-initrd.sh"]) expectOnly("initrd", file, () => write(file, "changed\n"));
    expectOnly("initrd", "nodeImage", () => undefined, () => triggers({}, "debian:trixie"));
  });

  it("qemu.sh or the health probe: the run's alone; memory is no build input", () => {
    for (const file of RUN_INPUTS) expectOnly("run", file, () => write(file, "changed\n"));
    assert.deepStrictEqual(triggers({ memoryMi: 512 }), triggers());
  });

  it("the component's steps carry them: kernel [kernel], initrd [initrd], run [kernel, initrd, run]", async () => {
    const { steps } = await deploySource({}, { projectDir });
    const expected = triggers();
    assert.deepStrictEqual(steps.get("unikernel-kernel")!.triggers, [expected.kernel]);
    assert.deepStrictEqual(steps.get("unikernel-initrd")!.triggers, [expected.initrd]);
    assert.deepStrictEqual(steps.get("unikernel-run")!.triggers, [expected.kernel, expected.initrd, expected.run]);
  });
});
