import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImagesConfig, UnikernelConfig } from "../../model/config";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { unikernelSchema } from "../../model/config/unikernel";
import { decideUnikernel, HostProbes, SKIPPED_KRAFT_NOT_FOUND, Unikernel, UnikernelArgs } from "../../components/unikernel";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  parent?: string;
}

function probes(kraft: boolean, kvm: boolean): HostProbes & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    commandOnPath: (name) => {
      asked.push(name);
      return kraft && name === "kraft";
    },
    kvmUsable: () => kvm,
    fileExists: () => true,
  };
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const IMAGES: ImagesConfig = { ...LOCAL_BASE_IMAGES, buildNetwork: "host" };

/** Builds the component inside a mocked stack and returns what it registered and its outputs. */
async function deploy(config: Partial<UnikernelConfig>, hostProbes: HostProbes, extra: Partial<UnikernelArgs> = {}) {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...(args.type === "command:local:Command" ? { stdout: "", stderr: "" } : {}) } };
      },
      call: (args) => args.inputs,
    },
    "optivolt",
    "unit",
    false,
  );
  const warnings: string[] = [];
  let uk: Unikernel | undefined;
  const options: Record<string, pulumi.CustomResourceOptions> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      options[args.name] = args.opts as pulumi.CustomResourceOptions;
      return undefined;
    });
    const parsed = unikernelSchema.parse(config);
    uk = new Unikernel("unikernel", {
      config: parsed,
      images: IMAGES,
      instanceName: "optivolt-lab-unikernel",
      bindAddress: "127.0.0.1",
      decision: decideUnikernel(parsed, hostProbes),
      warn: (message) => warnings.push(message),
      ...extra,
    });
  });
  const outputs = {
    status: await promiseOf(uk!.status),
    url: uk!.url === undefined ? undefined : await promiseOf(uk!.url),
    sourceHash: uk!.sourceHash,
    memoryMi: uk!.memoryMi,
    cpus: uk!.cpus,
  };
  // Let the last registrations reach the mocks.
  await new Promise((resolve) => setImmediate(resolve));
  return { registered, warnings, outputs, options };
}

function commands(registered: Registered[]): Map<string, Registered> {
  return new Map(registered.filter((r) => r.type === "command:local:Command").map((r) => [r.name, r]));
}

describe("Unikernel component (mocked Pulumi)", function () {
  this.timeout(20_000);

  it("enabled auto with kraft on the PATH: rootfs, build and run steps with the exact commands", async () => {
    const { registered, warnings, outputs } = await deploy({}, probes(true, true));
    assert.deepStrictEqual(warnings, []);
    const component = registered.find((r) => r.type === "optivolt:lab:Unikernel");
    assert.ok(component, "the component registers under its own type token");

    const steps = commands(registered);
    assert.deepStrictEqual([...steps.keys()].sort(), ["unikernel-build", "unikernel-rootfs", "unikernel-run"]);
    for (const step of steps.values()) {
      assert.strictEqual(step.inputs.dir, "unikernel");
      assert.deepStrictEqual(step.inputs.environment, { KRAFTKIT_NO_PROMPT: "true", KRAFTKIT_LOG_TYPE: "basic" });
      assert.deepStrictEqual(step.inputs.triggers, [outputs.sourceHash], `${step.name} re-runs exactly when the build inputs change`);
    }
    assert.strictEqual(steps.get("unikernel-build")!.inputs.create, "kraft build --plat qemu --arch x86_64 .");
    assert.strictEqual(steps.get("unikernel-build")!.inputs.delete, "rm -rf .unikraft");
    const run = steps.get("unikernel-run")!.inputs;
    assert.match(run.create, /^set -eu\nkraft run --detach --name optivolt-lab-unikernel --plat qemu --arch x86_64 --memory 480Mi --port 127\.0\.0\.1:8004:8000 \.\n/);
    assert.match(run.create, /wait-for-health\.ts http:\/\/127\.0\.0\.1:8004\/health 120;/);
    assert.strictEqual(run.delete, "kraft stop optivolt-lab-unikernel || true; kraft rm optivolt-lab-unikernel || true");
    const tag = outputs.sourceHash!.slice(0, 12);
    assert.match(steps.get("unikernel-rootfs")!.inputs.create, new RegExp(`--build-arg NODE_IMAGE=node:22-alpine --tag optivolt-unikernel-rootfs:${tag} - < Dockerfile`));
    assert.match(steps.get("unikernel-rootfs")!.inputs.delete, new RegExp(`docker image rm --force optivolt-unikernel-rootfs:${tag} optivolt-unikernel-app:${tag} `));

    assert.deepStrictEqual(outputs, { status: "running", url: "http://127.0.0.1:8004", sourceHash: outputs.sourceHash, memoryMi: 480, cpus: 1 });
    assert.match(outputs.sourceHash!, /^[0-9a-f]{64}$/);
  });

  it("every step removes its old self before a replacement (they share rootfs/, .unikraft/, a name and a port)", async () => {
    const { options } = await deploy({ network: "bridge" }, probes(true, true));
    for (const step of ["unikernel-rootfs", "unikernel-build", "unikernel-bridge", "unikernel-run"]) {
      assert.strictEqual(options[step].deleteBeforeReplace, true, step);
    }
    assert.ok(options["unikernel-run"].replaceOnChanges?.includes("*"), "kraft cannot change a running instance in place");
    for (const step of Object.keys(options).filter((n) => n.startsWith("unikernel-"))) assert.ok(options[step].parent instanceof Unikernel, `${step} is parented to the component`);
  });

  it("the steps' trigger follows the app's sources: new after an edit, the same when nothing changed", async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-trigger-"));
    try {
      fs.mkdirSync(path.join(projectDir, "images", "src"), { recursive: true });
      fs.writeFileSync(path.join(projectDir, "images", "src", "server.ts"), "export {};\n");
      const triggersOf = async () => commands((await deploy({}, probes(true, true), { projectDir })).registered).get("unikernel-run")!.inputs.triggers;
      const first = await triggersOf();
      assert.deepStrictEqual(await triggersOf(), first);
      fs.writeFileSync(path.join(projectDir, "images", "src", "server.ts"), "export const changed = true;\n");
      assert.notDeepStrictEqual(await triggersOf(), first);
    } finally {
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  });

  it("without KVM, auto emulation adds --disable-acceleration; with KVM it does not", async () => {
    const withoutKvm = commands((await deploy({}, probes(true, false))).registered).get("unikernel-run")!.inputs.create;
    const withKvm = commands((await deploy({}, probes(true, true))).registered).get("unikernel-run")!.inputs.create;
    assert.match(withoutKvm, / --disable-acceleration \.\n/);
    assert.doesNotMatch(withKvm, /--disable-acceleration/);
    const forced = commands((await deploy({ emulation: true }, probes(true, true))).registered).get("unikernel-run")!.inputs.create;
    assert.match(forced, / --disable-acceleration /);
  });

  it("bridge networking adds a kraft network step and answers on the bridge address", async () => {
    const { registered, outputs } = await deploy({ network: "bridge" }, probes(true, true));
    const steps = commands(registered);
    assert.strictEqual(steps.get("unikernel-bridge")!.inputs.create, "kraft net create --network 172.44.0.1/24 optivolt0");
    assert.strictEqual(steps.get("unikernel-bridge")!.inputs.delete, "kraft net rm optivolt0");
    assert.match(steps.get("unikernel-run")!.inputs.create, / --network optivolt0:172\.44\.0\.2\/24 \.\n/);
    assert.match(steps.get("unikernel-run")!.inputs.create, /wait-for-health\.ts http:\/\/172\.44\.0\.2:8000\/health /);
    assert.strictEqual(outputs.url, "http://172.44.0.2:8000");
  });

  it("builder kraft, enabled auto without kraft: deploys nothing, warns once with the install hint, says skipped", async () => {
    const hostProbes = probes(false, true);
    const { registered, warnings, outputs } = await deploy({ builder: "kraft" }, hostProbes);
    assert.deepStrictEqual(hostProbes.asked, ["kraft"], "the PATH probe is the injected one");
    assert.deepStrictEqual(commands(registered).size, 0);
    assert.strictEqual(warnings.length, 1);
    assert.match(warnings[0], /kraft.*not on the PATH/);
    assert.match(warnings[0], /get\.kraftkit\.sh/);
    assert.strictEqual(outputs.status, SKIPPED_KRAFT_NOT_FOUND);
    assert.strictEqual(outputs.status, "skipped: kraft not found");
    assert.strictEqual(outputs.url, undefined);
  });

  it("enabled false: nothing, no warning, status disabled", async () => {
    const { registered, warnings, outputs } = await deploy({ enabled: false }, probes(true, true));
    assert.strictEqual(commands(registered).size, 0);
    assert.deepStrictEqual(warnings, []);
    assert.strictEqual(outputs.status, "disabled");
  });

  it("memoryMi reaches kraft run in Mi", async () => {
    const { registered, outputs, warnings } = await deploy({ memoryMi: 448 }, probes(true, true));
    assert.deepStrictEqual(warnings, [], "no warning at or above kraft's estimate");
    const below = await deploy({ memoryMi: 352 }, probes(true, true));
    assert.deepStrictEqual(below.warnings, [
      "optivolt:unikernel.memoryMi is 352 MiB; kraft's root file system is estimated to need 384 MiB (docs/unikernel.md): set memoryMi to 384 if the guest does not start.",
    ]);
    assert.match(commands(registered).get("unikernel-run")!.inputs.create, / --memory 448Mi /);
    assert.strictEqual(outputs.memoryMi, 448);
  });
});

describe("decideUnikernel (kraft builder)", () => {
  const base = { ...unikernelSchema.parse({ builder: "kraft" }), enabled: "auto" as const, emulation: "auto" as const, platform: "qemu" as const };

  it("enabled true without kraft fails before anything is deployed, with the install hint", () => {
    assert.throws(() => decideUnikernel({ ...base, enabled: true }, probes(false, true)), /enabled is true but `kraft` is not on the PATH: install KraftKit/);
  });

  it("enabled true with kraft deploys", () => {
    assert.deepStrictEqual(decideUnikernel({ ...base, enabled: true }, probes(true, true)), { deploy: true, builder: "kraft", emulation: false });
  });

  it("explicit emulation wins over the KVM probe", () => {
    assert.deepStrictEqual(decideUnikernel({ ...base, emulation: false }, probes(true, false)), { deploy: true, builder: "kraft", emulation: false });
    assert.deepStrictEqual(decideUnikernel({ ...base, emulation: true }, probes(true, true)), { deploy: true, builder: "kraft", emulation: true });
  });

  it("Firecracker without KVM is refused with the way out", () => {
    assert.throws(() => decideUnikernel({ ...base, platform: "fc" }, probes(true, false)), /fc, which needs KVM.*use platform qemu/);
    assert.deepStrictEqual(decideUnikernel({ ...base, platform: "fc" }, probes(true, true)), { deploy: true, builder: "kraft", emulation: false });
  });
});
