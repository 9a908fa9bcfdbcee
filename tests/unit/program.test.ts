import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../model/config";
import { APP_PORT, APP_SHUTDOWN_TIMEOUT_MS, dockerfileTarget, variantContainerName, webApiImageName } from "../../model/naming";
import { PreflightProbes } from "../../components/preflight";
import { LabRun, MOCKED_ENGINE_FACTS, RecordedResource, runLabUnderMocks } from "../../policy/offline/mockedLab";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const VARIANT = "optivolt:lab:WebApiVariant";
const WEBAPI_IMAGE = "optivolt:lab:WebApiImage";

function only(run: LabRun, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
}

function envOf(container: RecordedResource): Record<string, string> {
  return Object.fromEntries((container.inputs.envs as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));
}

function labelsOf(container: RecordedResource): Record<string, string> {
  return Object.fromEntries((container.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
}

for (const stack of ["dev", "ci"]) {
  describe(`program under mocks: the ${stack} stack`, () => {
    const config = loadStackConfig(stack);
    let run: LabRun;
    before(async () => {
      run = await runLabUnderMocks(stack);
    });

    it("creates one lab network with the configured name", () => {
      const networks = run.resources.filter((r) => r.type === NETWORK);
      assert.strictEqual(networks.length, 1);
      assert.strictEqual(networks[0].inputs.name, config.networkName);
      assert.strictEqual(networks[0].parent, undefined);
    });

    for (const [name, spec] of Object.entries(config.variants)) {
      describe(`variant ${name}`, () => {
        it("gets exactly its CPUs, memory, swap = memory, port and bind address", () => {
          const c = only(run, CONTAINER, name).inputs;
          assert.strictEqual(c.cpus, String(spec.cpus));
          assert.strictEqual(c.memory, spec.memoryMb);
          assert.strictEqual(c.memorySwap, spec.memoryMb);
          assert.deepStrictEqual(c.ports, [{ internal: APP_PORT, external: spec.hostPort, ip: config.bindAddress, protocol: "tcp" }]);
          assert.strictEqual(c.name, variantContainerName(config, name));
        });

        const imageName = `webapi-${dockerfileTarget(spec)}`;

        it("is a WebApiVariant whose container is its child", () => {
          const component = only(run, VARIANT, name);
          assert.strictEqual(component.custom, false);
          assert.strictEqual(component.parent, undefined);
          assert.deepStrictEqual(only(run, CONTAINER, name).parent, { type: VARIANT, name });
        });

        it(`builds the ${spec.runtime} runtime's ${spec.target} target from images/ locally with the stack's bases and build network`, () => {
          assert.deepStrictEqual(only(run, IMAGE, imageName).parent, { type: WEBAPI_IMAGE, name: imageName });
          const image = only(run, IMAGE, imageName).inputs;
          const target = spec.runtime === "node" ? spec.target : `${spec.target}-bun`;
          assert.strictEqual(image.imageName, webApiImageName(target, stack));
          assert.strictEqual(image.imageName, `optivolt-webapi-${stack}:${target}`);
          assert.strictEqual(image.skipPush, true);
          assert.deepStrictEqual(image.build, {
            context: "images",
            dockerfile: "images/Dockerfile",
            target,
            args: {
              NODE_IMAGE: config.images.nodeImage,
              NODE_MINIMAL_IMAGE: config.images.nodeMinimalImage,
              BUN_IMAGE: config.images.bunImage,
              BUN_MINIMAL_IMAGE: config.images.bunMinimalImage,
              OPTIVOLT_STACK: stack,
            },
            network: config.images.buildNetwork,
            // The engine's (mocked: linux/amd64), not the machine running `pulumi`.
            platform: MOCKED_ENGINE_FACTS.platform,
          });
        });

        it("its image's superseded builds are removed once the containers that ran them are gone", () => {
          const image = only(run, IMAGE, imageName);
          const target = dockerfileTarget(spec);
          const tracker = only(run, "command:local:Command", `image-superseded-${target}`);
          assert.deepStrictEqual(tracker.parent, { type: WEBAPI_IMAGE, name: imageName });
          // A new build replaces the tracker; the replaced one's delete gets what its create printed: the old build's ID.
          assert.strictEqual(tracker.inputs.environment.IMAGE_ID, image.state.repoDigest);
          assert.deepStrictEqual(tracker.inputs.triggers, [image.state.repoDigest]);
          assert.strictEqual(tracker.inputs.create, 'printf %s "$IMAGE_ID"');
          assert.match(tracker.inputs.delete, /^docker image rm "\$PULUMI_COMMAND_STDOUT" .*\|\| true$/);
          // Deleted after the container that depends on it, so the old build is no longer in use.
          assert.deepStrictEqual(only(run, CONTAINER, name).dependsOn, [{ type: "command:local:Command", name: `image-superseded-${target}` }]);
        });

        it("runs its (target, runtime) image by ID and pins networkMode, so a second `up` plans no replacement", () => {
          const c = only(run, CONTAINER, name).inputs;
          assert.match(c.image, /^sha256:[0-9a-f]{64}$/, "the image must be the built image's ID (repoDigest), never a tag");
          assert.strictEqual(c.image, only(run, IMAGE, imageName).state.repoDigest);
          assert.strictEqual(c.networkMode, "bridge");
        });

        it("is on the lab network, reachable there by its variant name", () => {
          assert.deepStrictEqual(only(run, CONTAINER, name).inputs.networksAdvanced, [{ name: config.networkName, aliases: [name] }]);
        });

        it("is stopped, on replace and destroy, with a grace period longer than the app's SIGTERM drain", () => {
          const c = only(run, CONTAINER, name);
          // Unset, the provider removes the container with force (SIGKILL) and the drain never runs.
          const drainSeconds = Number(envOf(c).SHUTDOWN_TIMEOUT_MS) / 1000;
          assert.ok(drainSeconds > 0, "the drain time is set explicitly");
          assert.ok(c.inputs.destroyGraceSeconds >= drainSeconds + 2, `grace ${c.inputs.destroyGraceSeconds} s for a ${drainSeconds} s drain`);
        });

        it(`has PORT/VARIANT/SHUTDOWN_TIMEOUT_MS env, a health check on /health run by ${spec.runtime} itself, restart, labels and log rotation`, () => {
          const c = only(run, CONTAINER, name);
          assert.deepStrictEqual(envOf(c), { PORT: String(APP_PORT), VARIANT: name, SHUTDOWN_TIMEOUT_MS: String(APP_SHUTDOWN_TIMEOUT_MS) });
          const [kind, binary, flag, script] = c.inputs.healthcheck.tests as string[];
          // The Bun images have no node: the probe must use the image's own runtime.
          assert.deepStrictEqual([kind, binary, flag], ["CMD", spec.runtime, "-e"]);
          assert.match(script, new RegExp(`http://127\\.0\\.0\\.1:${APP_PORT}/health`));
          assert.strictEqual(c.inputs.wait, true, "`pulumi up` must wait until the variant is healthy");
          assert.strictEqual(c.inputs.restart, "unless-stopped");
          assert.deepStrictEqual(labelsOf(c), {
            "optivolt.variant": name,
            "optivolt.runtime": spec.runtime,
            "optivolt.cpus": String(spec.cpus),
            "optivolt.memory_mb": String(spec.memoryMb),
            "optivolt.stack": stack,
          });
          assert.strictEqual(c.inputs.logDriver, "json-file");
          assert.deepStrictEqual(c.inputs.logOpts, { "max-size": "10m", "max-file": "3" });
        });
      });
    }

    it("builds each (target, runtime) image once: three targets on each of node and bun", () => {
      const images = run.resources.filter((r) => r.type === IMAGE).map((r) => r.inputs.build.target).sort();
      assert.deepStrictEqual(images, ["microvm", "microvm-bun", "minimal", "minimal-bun", "standard", "standard-bun"]);
    });

    it("exports endpoints and variants (with their runtime) for every variant", () => {
      const expected = Object.fromEntries(Object.entries(config.variants).map(([n, s]) => [n, `http://127.0.0.1:${s.hostPort}`]));
      assert.deepStrictEqual(
        Object.fromEntries(Object.keys(config.variants).map((n) => [n, run.outputs.endpoints[n]])),
        expected,
      );
      for (const [n, s] of Object.entries(config.variants)) {
        assert.deepStrictEqual(run.outputs.variants[n], { cpus: s.cpus, memoryMb: s.memoryMb, runtime: s.runtime, url: expected[n] });
      }
    });

    it("every child of a component has that component as parent", () => {
      const components = new Set(run.resources.filter((r) => !r.custom).map((r) => `${r.type}::${r.name}`));
      for (const r of run.resources.filter((r) => r.parent !== undefined)) {
        assert.ok(components.has(`${r.parent!.type}::${r.parent!.name}`), `${r.type} ${r.name} has a parent that is not a component`);
      }
      for (const c of run.resources.filter((r) => r.type === CONTAINER && r.name in config.variants)) {
        assert.ok(c.parent, `container ${c.name} has no parent`);
      }
    });
  });
}

describe("program under mocks: `pulumi destroy` leaves no web API image", () => {
  it("one tag-removing command per (target, runtime) image, which that image depends on; a second budget shares both", async () => {
    const variants = {
      ...loadStackConfig("dev").variants,
      tiny: { target: "minimal", cpus: 0.25, memoryMb: 96, hostPort: 8010 },
      "tiny-bun": { target: "minimal", runtime: "bun", cpus: 0.25, memoryMb: 96, hostPort: 8020 },
    };
    const run = await runLabUnderMocks("dev", { "optivolt:variants": variants });
    const cleanups = run.resources.filter((r) => r.type === "command:local:Command" && r.name.startsWith("image-cleanup-"));
    const targets = ["microvm", "microvm-bun", "minimal", "minimal-bun", "standard", "standard-bun"];
    assert.deepStrictEqual(cleanups.map((c) => c.name).sort(), targets.map((t) => `image-cleanup-${t}`));
    for (const c of cleanups) {
      const target = c.name.replace("image-cleanup-", "");
      assert.strictEqual(c.inputs.create, undefined, "creating the lab must not run anything");
      assert.match(c.inputs.delete, new RegExp(`^docker image rm ${webApiImageName(target, "dev").replace(/[.:]/g, "\\$&")} `));
      // Then every untagged build the stack left: they carry its label (build arg OPTIVOLT_STACK).
      assert.match(c.inputs.delete, /; docker image prune --force --filter label=optivolt\.stack=dev /);
    }
    assert.deepStrictEqual(run.resources.filter((r) => r.type === IMAGE).map((r) => r.name).sort(), targets.map((t) => `webapi-${t}`));
    for (const target of targets) {
      assert.deepStrictEqual(only(run, IMAGE, `webapi-${target}`).dependsOn, [{ type: "command:local:Command", name: `image-cleanup-${target}` }]);
    }
    const imageOf = (variant: string) => only(run, CONTAINER, variant).inputs.image;
    assert.strictEqual(imageOf("tiny"), imageOf("minimal"));
    assert.strictEqual(imageOf("tiny-bun"), imageOf("minimal-bun"));
    assert.notStrictEqual(imageOf("minimal"), imageOf("minimal-bun"));
  });

  it("removes the tag on the engine docker:host names", async () => {
    const run = await runLabUnderMocks("remote", {}, { stackDir: path.resolve(__dirname, "..", "..", "examples", "remote") });
    assert.deepStrictEqual(only(run, "command:local:Command", "image-cleanup-minimal").inputs.environment, { DOCKER_HOST: "ssh://optivolt@lab-host.example.org" });
  });
});

describe("program under mocks: config variations", () => {
  it("a stack bound to every address still publishes loopback URLs, and honours endpointHost", async () => {
    const open = await runLabUnderMocks("dev", { "optivolt:bindAddress": "0.0.0.0" });
    assert.deepStrictEqual(only(open, CONTAINER, "minimal").inputs.ports[0].ip, "0.0.0.0");
    assert.strictEqual(open.outputs.endpoints.minimal, "http://127.0.0.1:8003");
    const named = await runLabUnderMocks("dev", { "optivolt:endpointHost": "lab.example.org" });
    assert.strictEqual(named.outputs.variants.standard.url, "http://lab.example.org:8001");
  });

  it("a WORKERS count reaches the container's environment only when set", async () => {
    const variants = structuredClone(loadStackConfig("dev").variants) as Record<string, Record<string, unknown>>;
    variants.standard.workers = 3;
    const run = await runLabUnderMocks("dev", { "optivolt:variants": variants });
    assert.strictEqual(envOf(only(run, CONTAINER, "standard")).WORKERS, "3");
    assert.strictEqual(envOf(only(run, CONTAINER, "microvm")).WORKERS, undefined);
  });

  it("a fourth variant from config needs no code", async () => {
    const variants = { ...loadStackConfig("dev").variants, tiny: { target: "minimal", cpus: 0.25, memoryMb: 96, hostPort: 8010 } };
    const run = await runLabUnderMocks("dev", { "optivolt:variants": variants });
    const tiny = only(run, CONTAINER, "tiny").inputs;
    assert.deepStrictEqual([tiny.cpus, tiny.memory, tiny.memorySwap, tiny.ports[0].external], ["0.25", 96, 96, 8010]);
    assert.strictEqual(run.outputs.endpoints.tiny, "http://127.0.0.1:8010");
  });
});

describe("program under mocks: index.ts", () => {
  const healthyEngine: PreflightProbes = {
    engineVersion: async () => "20.10.24",
    engineFacts: async () => ({ platform: "linux/amd64", swapLimit: true }),
    publishedPorts: async () => [],
    bindError: async () => undefined,
  };

  it("a preview reads the engine's facts (they shape the plan) but probes no host port", async () => {
    const refuse = async (): Promise<never> => assert.fail("a preview must not probe the host ports");
    const probes = { ...healthyEngine, publishedPorts: refuse, bindError: refuse };
    const run = await runLabUnderMocks("dev", {}, { program: "index", preview: true, probes });
    assert.deepStrictEqual(Object.keys(run.outputs.endpoints).slice(0, 3), ["standard", "microvm", "minimal"]);
  });

  it("an update checks the engine first and then deploys the same graph as deployLab", async () => {
    const viaIndex = await runLabUnderMocks("ci", {}, { program: "index", probes: healthyEngine });
    const direct = await runLabUnderMocks("ci");
    const shape = (run: LabRun) => run.resources.map((r) => `${r.type}::${r.name}`).sort();
    assert.deepStrictEqual(shape(viaIndex), shape(direct));
    assert.deepStrictEqual(viaIndex.outputs.endpoints, direct.outputs.endpoints);
  });

  it("bad config stops the program with the message alone (RunError) before any resource", async () => {
    const registered: RecordedResource[] = [];
    await assert.rejects(
      runLabUnderMocks("dev", { "optivolt:bindAddress": "localhost" }, { program: "index", preview: true, onRegister: (r) => registered.push(r) }),
      (error: unknown) => {
        assert.ok(pulumi.RunError.isInstance(error), `expected a RunError, got ${String(error)}`);
        assert.match((error as Error).message, /^Invalid OptiVolt stack config for stack "dev"[^]*optivolt:bindAddress: must be an IPv4 address/);
        return true;
      },
    );
    assert.deepStrictEqual(registered, []);
  });

  it("a Docker engine that does not answer stops the update before any resource", async () => {
    const noEngine: PreflightProbes = { ...healthyEngine, engineVersion: async () => Promise.reject(new Error("Cannot connect to the Docker daemon")) };
    const registered: RecordedResource[] = [];
    await assert.rejects(runLabUnderMocks("dev", {}, { program: "index", probes: noEngine, onRegister: (r) => registered.push(r) }), (error: unknown) => {
      assert.ok(pulumi.RunError.isInstance(error));
      assert.match((error as Error).message, /nothing was created[^]*no Docker engine answered[^]*Cannot connect to the Docker daemon[^]*systemctl start docker/);
      return true;
    });
    assert.deepStrictEqual(registered, []);
  });

  it("a host port taken by another container stops the update before any resource", async () => {
    const taken: PreflightProbes = { ...healthyEngine, publishedPorts: async () => [{ container: "someone-elses-nginx", address: "0.0.0.0", port: 8002 }] };
    const registered: RecordedResource[] = [];
    await assert.rejects(runLabUnderMocks("dev", {}, { program: "index", probes: taken, onRegister: (r) => registered.push(r) }), (error: unknown) => {
      assert.ok(pulumi.RunError.isInstance(error));
      assert.match((error as Error).message, /host port 8002 \(for variant microvm\) is already published by container someone-elses-nginx/);
      return true;
    });
    assert.deepStrictEqual(registered, []);
  });
});

describe("program under mocks: what the engine decides", () => {
  const images = (run: LabRun) => run.resources.filter((r) => r.type === IMAGE);
  const containers = (run: LabRun) => run.resources.filter((r) => r.type === CONTAINER);

  it("images build for the engine's platform, read by the preflight, not the machine running pulumi; the plan says so", async () => {
    const notes: string[] = [];
    const arm: PreflightProbes = {
      engineVersion: async () => "20.10.24",
      engineFacts: async () => ({ platform: "linux/arm64", swapLimit: true }),
      publishedPorts: async () => [],
      bindError: async () => undefined,
    };
    const run = await runLabUnderMocks("dev", {}, { program: "index", preview: true, probes: arm });
    for (const image of images(run)) assert.strictEqual(image.inputs.build.platform, "linux/arm64", image.name);
    const direct = await runLabUnderMocks("dev", {}, { engine: { platform: "linux/arm64", swapLimit: true } });
    assert.deepStrictEqual(images(direct).map((i) => i.inputs.build.platform), images(run).map((i) => i.inputs.build.platform));
    // The note, with the program's own notify hook.
    await runLabUnderMocks("dev", {}, { engine: { platform: "linux/arm64", swapLimit: true }, notify: (level, message) => notes.push(`${level}: ${message}`) });
    assert.deepStrictEqual(notes, ["info: The web API images build for linux/arm64 (the engine's own)."]);
  });

  it("optivolt:images.platform overrides the engine's, and the plan names both", async () => {
    const notes: string[] = [];
    const images_ = { ...(loadStackConfig("dev").images as object), platform: "linux/amd64" };
    const run = await runLabUnderMocks("dev", { "optivolt:images": images_ }, { engine: { platform: "linux/arm64", swapLimit: true }, notify: (level, message) => notes.push(`${level}: ${message}`) });
    for (const image of images(run)) assert.strictEqual(image.inputs.build.platform, "linux/amd64");
    assert.deepStrictEqual(notes, ["info: The web API images build for linux/amd64 (optivolt:images.platform; the engine runs linux/arm64)."]);
  });

  it("an engine without swap accounting gets no memorySwap on any container (it would read back -1 and diff on every `up`), with a warning", async () => {
    const notes: string[] = [];
    const run = await runLabUnderMocks("dev", {}, { engine: { platform: "linux/amd64", swapLimit: false }, notify: (level, message) => notes.push(`${level}: ${message}`) });
    assert.strictEqual(containers(run).length, Object.keys(run.config.variants).length + 3, "every variant and the three monitoring containers");
    for (const c of containers(run)) {
      assert.strictEqual(c.inputs.memorySwap, undefined, c.name);
      assert.ok(c.inputs.memory > 0, `${c.name} keeps its memory limit`);
    }
    assert.strictEqual(notes.length, 2);
    assert.match(notes[1], /^warn: The Docker engine has no swap accounting .*SwapLimit false.*memorySwap is left unset.*soft/);
    const withSwap = await runLabUnderMocks("dev", {}, { engine: { platform: "linux/amd64", swapLimit: true } });
    for (const c of containers(withSwap)) assert.strictEqual(c.inputs.memorySwap, c.inputs.memory, c.name);
  });
});
