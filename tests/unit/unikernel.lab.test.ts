import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../components/config";
import { deployLab } from "../../components/lab";
import { PreflightError } from "../../components/preflight";
import { HostProbes } from "../../components/unikernel";

/** Runs deployLab on the dev stack file under mocks with the given machine probes; resolves the outputs and Command inputs. */
async function deployDev(probes: HostProbes, unikernel: Record<string, unknown> = {}) {
  const commands: Record<string, any>[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type === "command:local:Command" && args.name.startsWith("unikernel")) commands.push({ name: args.name, ...args.inputs });
        const computed: Record<string, unknown> =
          args.type === "docker:index/image:Image" ? { repoDigest: `sha256:${args.name}` } : args.type === "command:local:Command" ? { stdout: "" } : {};
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...args.inputs, ...computed } };
      },
      call: (args) => args.inputs,
    },
    "optivolt",
    "dev",
    false,
  );
  const config = loadStackConfig("dev");
  const outputs = await new Promise<{ endpoints: Record<string, string>; variants: Record<string, any> }>((resolve, reject) => {
    pulumi.runtime
      .runInPulumiStack(async () => {
        const lab = deployLab({ ...config, monitoring: { ...config.monitoring, enabled: false }, unikernel: { ...config.unikernel, ...unikernel } }, { unikernelProbes: probes });
        pulumi.all([lab.endpoints, lab.variants]).apply(([endpoints, variants]) => resolve({ endpoints, variants }));
      })
      .catch(reject);
  });
  return { outputs, commands };
}

describe("deployLab with the unikernel (dev stack, mocked)", function () {
  this.timeout(30_000);

  it("kraft on the PATH: its URL and status join endpoints and variants next to the containers", async () => {
    const { outputs, commands } = await deployDev({ commandOnPath: () => true, kvmUsable: () => true, fileExists: () => true });
    assert.strictEqual(outputs.endpoints.unikernel, "http://127.0.0.1:8004");
    assert.strictEqual(outputs.endpoints.standard, "http://127.0.0.1:8001");
    assert.deepStrictEqual(outputs.variants.unikernel, {
      cpus: 1,
      memoryMb: 384,
      runtime: "node",
      url: "http://127.0.0.1:8004",
      status: "running",
      builder: "kraft",
      accel: "kvm",
    });
    const run = commands.find((c) => c.name === "unikernel-run");
    assert.match(run!.create, / --name optivolt-lab-unikernel /, "the instance is named like the lab's containers");
  });

  it("no kraft, no QEMU: everything else deploys; the variant says what is missing, and endpoints holds only URLs", async () => {
    const { outputs, commands } = await deployDev({ commandOnPath: () => false, kvmUsable: () => true, fileExists: () => true });
    assert.deepStrictEqual(commands, []);
    assert.deepStrictEqual(outputs.variants.unikernel, { cpus: 1, memoryMb: 384, runtime: "node", status: "skipped: no kraft, no qemu-system-x86_64, no make" });
    assert.deepStrictEqual(Object.keys(outputs.endpoints), Object.keys(loadStackConfig("dev").variants));
    for (const [name, url] of Object.entries(outputs.endpoints)) assert.doesNotThrow(() => new URL(url), `endpoints.${name} is ${JSON.stringify(url)}`);
  });

  it("enabled true without kraft or QEMU: stops with both ways before any resource is registered", async () => {
    const registered: string[] = [];
    await pulumi.runtime.setMocks(
      { newResource: (args) => (registered.push(args.name), { id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs },
      "optivolt",
      "dev",
      false,
    );
    const config = loadStackConfig("dev");
    await assert.rejects(
      pulumi.runtime.runInPulumiStack(async () =>
        deployLab({ ...config, unikernel: { ...config.unikernel, enabled: true } }, { unikernelProbes: { commandOnPath: () => false, kvmUsable: () => true, fileExists: () => true } }),
      ),
      (error: unknown) => error instanceof PreflightError && /enabled is true but no builder can run here .*either install KraftKit.*or install QEMU/.test(error.message),
    );
    assert.deepStrictEqual(registered, []);
  });

  it("enabled false: the unikernel is absent from the outputs", async () => {
    const { outputs } = await deployDev({ commandOnPath: () => true, kvmUsable: () => true, fileExists: () => true }, { enabled: false });
    assert.deepStrictEqual(Object.keys(outputs.endpoints), Object.keys(loadStackConfig("dev").variants));
    assert.ok(!("unikernel" in outputs.variants));
  });
});
