import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { loadStackConfig } from "../../model/config";
import { deployLab } from "../../components/lab";
import { PreflightError } from "../../components/preflight";
import { HostProbes } from "../../components/unikernel";
import { LabRun, runLabUnderMocks } from "../../policy/offline/mockedLab";

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
      isolation: "unikernel",
      cpus: 1,
      memoryMb: 480,
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
    assert.deepStrictEqual(outputs.variants.unikernel, { isolation: "unikernel", cpus: 1, memoryMb: 480, runtime: "node", status: "skipped: no kraft, no qemu-system-x86_64, no make" });
    assert.deepStrictEqual(Object.keys(outputs.endpoints), [...Object.keys(loadStackConfig("dev").variants), ...Object.keys(loadStackConfig("dev").microvms)]);
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
    assert.deepStrictEqual(Object.keys(outputs.endpoints), [...Object.keys(loadStackConfig("dev").variants), ...Object.keys(loadStackConfig("dev").microvms)]);
    assert.ok(!("unikernel" in outputs.variants));
  });
});

describe("deployLab with the source-built unikernel (dev stack, mocked machine with QEMU and no kraft)", function () {
  this.timeout(30_000);
  const step = (run: LabRun, name: string) => {
    const found = run.resources.find((r) => r.type === "command:local:Command" && r.name === name);
    assert.ok(found, `no ${name}`);
    return found;
  };
  const jobs = (run: LabRun) => {
    const prometheus = run.resources.find((r) => r.name === "monitoring-prometheus" && r.type === "docker:index/container:Container")!;
    const uploads = prometheus.inputs.uploads as { file: string; content: string }[];
    return parseYaml(uploads.find((u) => u.file === "/etc/prometheus/prometheus.yml")!.content).scrape_configs as { job_name: string; static_configs: unknown[] }[];
  };

  it("builds the kernel, then the initrd, then starts QEMU once the lab network exists, all under the Unikernel component", async () => {
    const run = await runLabUnderMocks("dev");
    const names = (r: { dependsOn: { name: string }[] }) => r.dependsOn.map((d) => d.name);
    assert.deepStrictEqual(names(step(run, "unikernel-kernel")), []);
    assert.deepStrictEqual(names(step(run, "unikernel-initrd")), ["unikernel-kernel"]);
    assert.deepStrictEqual(names(step(run, "unikernel-run")), ["unikernel-kernel", "unikernel-initrd", "lab"]);
    for (const name of ["unikernel-kernel", "unikernel-initrd", "unikernel-run"]) {
      assert.deepStrictEqual(step(run, name).parent, { type: "optivolt:lab:Unikernel", name: "unikernel" });
    }
  });

  it("forwards loopback and the lab network's gateway; Prometheus scrapes the gateway; the outputs name the builder and pid file", async () => {
    const run = await runLabUnderMocks("dev");
    assert.match(step(run, "unikernel-run").inputs.create, / --forward 127\.0\.0\.1:8004 --forward 172\.30\.0\.1:8004 /);
    assert.deepStrictEqual(jobs(run).find((j) => j.job_name === "unikernel")?.static_configs, [
      { targets: ["172.30.0.1:8004"], labels: { variant: "unikernel", runtime: "node", isolation: "qemu" } },
    ]);
    assert.strictEqual(run.outputs.endpoints.unikernel, "http://127.0.0.1:8004");
    assert.deepStrictEqual(run.outputs.variants.unikernel, {
      isolation: "unikernel",
      cpus: 1,
      memoryMb: 480,
      runtime: "node",
      url: "http://127.0.0.1:8004",
      status: "running",
      builder: "source",
      pidFile: path.resolve(__dirname, "../../unikernel/.run/dev/qemu.pid"),
    });
  });

  it("an engine on another machine: no gateway forward, no scrape job, and a warning saying why", async () => {
    const notes: string[] = [];
    const run = await runLabUnderMocks("dev", { "docker:host": "ssh://lab@remote" }, { notify: (level, message) => notes.push(`${level}: ${message}`) });
    assert.doesNotMatch(step(run, "unikernel-run").inputs.create, /172\.30\.0\.1/);
    assert.ok(!jobs(run).some((j) => j.job_name === "unikernel"));
    assert.ok(notes.some((n) => /^warn: Prometheus does not scrape the unikernel: QEMU runs on this machine/.test(n)), notes.join("\n"));
  });

  it("monitoring off: QEMU forwards loopback only", async () => {
    const run = await runLabUnderMocks("dev", { "optivolt:monitoring": { enabled: false } });
    assert.match(step(run, "unikernel-run").inputs.create, / --forward 127\.0\.0\.1:8004 --env /);
  });

  it("the ci stack builds from the vendored archives on its own port and paths", async () => {
    const run = await runLabUnderMocks("ci");
    // Relative to unikernel/, where the steps run (the same in every clone).
    assert.match(step(run, "unikernel-kernel").inputs.create, / --unikraft \.\.\/\.\.\/shared\/vendor\/unikraft\/unikraft-RELEASE-0\.16\.3\.tar\.gz /);
    assert.match(step(run, "unikernel-run").inputs.create, /--run-dir \.run\/ci .* --forward 127\.0\.0\.1:18004 /);
  });
});
