// The WebApiVariant container spec on a real engine: the program's recorded container inputs
// (ci stack, under mocks) are created the way the Docker provider creates them (engine API:
// create on `networkMode`, leave `bridge`, join the lab network, start), then checked: healthy
// under its budget, reachable by alias on the lab network, and read back exactly as configured
// (image ID and network mode included, which is what keeps a second `pulumi up` from replacing it).
import * as assert from "assert";
import * as http from "http";
import * as net from "net";
import { loadStackConfig } from "../../model/config";
import { APP_PORT, dockerfileTarget } from "../../model/naming";
import { systemProbes } from "../../components/preflight";
import { RecordedResource, runLabUnderMocks } from "../../policy/offline/mockedLab";
import { docker, ensureWebApiImages, testImageTag, requireDockerEngine, waitForHealth } from "./support";

const MIB = 1024 * 1024;
const PREFIX = `ovtest-program-${process.pid}`;

const ENGINE_SOCKET = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice("unix://".length) : "/var/run/docker.sock";

/** Calls the Docker engine API on the local socket; rejects on a non-2xx answer. */
function engineApi<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath: ENGINE_SOCKET, method, path, headers: { "Content-Type": "application/json" } },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          if ((response.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: HTTP ${response.statusCode} ${text.trim()}`));
          else resolve((text ? JSON.parse(text) : undefined) as T);
        });
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function nanoseconds(goDuration: string): number {
  const match = /^(\d+)s$/.exec(goDuration);
  if (!match) throw new Error(`unexpected duration ${goDuration}`);
  return Number(match[1]) * 1e9;
}

interface Inspect {
  Image: string;
  State: { Health?: { Status: string; Log?: { Output: string }[] } };
  HostConfig: { NetworkMode: string; Memory: number; MemorySwap: number; NanoCpus: number; RestartPolicy: { Name: string }; LogConfig: { Type: string; Config: Record<string, string> }; PortBindings: Record<string, { HostIp: string; HostPort: string }[]> };
  Config: { Labels: Record<string, string>; Healthcheck: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number; Retries: number } };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
}

/** The create request the Docker provider sends for these Container inputs. */
function createRequest(inputs: Record<string, any>, imageId: string): unknown {
  const port = inputs.ports[0];
  return {
    Image: imageId,
    Env: inputs.envs,
    Labels: Object.fromEntries(inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
    ExposedPorts: { [`${port.internal}/${port.protocol}`]: {} },
    Healthcheck: {
      Test: inputs.healthcheck.tests,
      Interval: nanoseconds(inputs.healthcheck.interval),
      Timeout: nanoseconds(inputs.healthcheck.timeout),
      StartPeriod: nanoseconds(inputs.healthcheck.startPeriod),
      Retries: inputs.healthcheck.retries,
    },
    HostConfig: {
      NetworkMode: inputs.networkMode,
      Memory: inputs.memory * MIB,
      MemorySwap: inputs.memorySwap * MIB,
      NanoCpus: Math.round(Number(inputs.cpus) * 1e9),
      PortBindings: { [`${port.internal}/${port.protocol}`]: [{ HostIp: port.ip, HostPort: String(port.external) }] },
      RestartPolicy: { Name: inputs.restart },
      LogConfig: { Type: inputs.logDriver, Config: inputs.logOpts },
    },
  };
}

describe("program on a real engine: the WebApiVariant containers", function () {
  this.timeout(20 * 60_000);
  const networkName = PREFIX;
  let containers: RecordedResource[] = [];
  const imageIds: Record<string, string> = {};

  before(async () => {
    await requireDockerEngine();
    await ensureWebApiImages();
    // The ci stack's six variants (three budgets × two runtimes), each on a free loopback port.
    const variants = structuredClone(loadStackConfig("ci").variants);
    // freePort can hand out the same port twice while nothing listens on it yet.
    const taken = new Set<number>();
    for (const spec of Object.values(variants)) {
      do spec.hostPort = await freePort();
      while (taken.has(spec.hostPort));
      taken.add(spec.hostPort);
    }
    const overrides = {
      "optivolt:networkName": networkName,
      "optivolt:monitoring": { enabled: false },
      "optivolt:variants": variants,
    };
    const run = await runLabUnderMocks("ci", overrides);
    containers = run.resources.filter((r) => r.type === "docker:index/container:Container" && r.parent?.type === "optivolt:lab:WebApiVariant");
    assert.strictEqual(containers.length, 6);

    const network = run.resources.find((r) => r.type === "docker:index/network:Network")!;
    await engineApi("POST", "/networks/create", {
      Name: network.inputs.name,
      Driver: network.inputs.driver,
      Labels: Object.fromEntries(network.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
    });
    for (const container of containers) {
      const target = dockerfileTarget(run.config.variants[container.name]);
      // What the provider's local build reports as repoDigest: the image ID.
      imageIds[container.name] = (await docker(["image", "inspect", "--format", "{{.Id}}", testImageTag(target)])).stdout.trim();
      const { Id } = await engineApi<{ Id: string }>("POST", `/containers/create?name=${container.inputs.name}`, createRequest(container.inputs, imageIds[container.name]));
      await engineApi("POST", "/networks/bridge/disconnect", { Container: Id });
      for (const attachment of container.inputs.networksAdvanced) {
        await engineApi("POST", `/networks/${attachment.name}/connect`, { Container: Id, EndpointConfig: { Aliases: attachment.aliases } });
      }
      await engineApi("POST", `/containers/${Id}/start`);
    }
  });

  after(async () => {
    for (const container of containers) await docker(["rm", "--force", container.inputs.name]).catch(() => undefined);
    await docker(["network", "rm", networkName]).catch(() => undefined);
  });

  it("every variant turns healthy under its budget through its own health check (run by node or by bun)", async () => {
    for (const container of containers) {
      const deadline = Date.now() + 120_000;
      let inspect = await engineApi<Inspect>("GET", `/containers/${container.inputs.name}/json`);
      while (inspect.State.Health?.Status !== "healthy" && Date.now() < deadline) {
        assert.notStrictEqual(inspect.State.Health?.Status, "unhealthy", `${container.name}: ${JSON.stringify(inspect.State.Health?.Log?.slice(-1))}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        inspect = await engineApi<Inspect>("GET", `/containers/${container.inputs.name}/json`);
      }
      assert.strictEqual(inspect.State.Health?.Status, "healthy", `${container.name} did not turn healthy in 120 s`);
    }
  });

  it("answers on its published loopback port", async () => {
    for (const container of containers) {
      const port = container.inputs.ports[0];
      assert.strictEqual(port.ip, "127.0.0.1");
      await waitForHealth(`http://127.0.0.1:${port.external}`, 30_000);
    }
  });

  it("reads back exactly as configured: image ID, network mode, limits, restart, logs, labels", async () => {
    for (const container of containers) {
      const { inputs } = container;
      const inspect = await engineApi<Inspect>("GET", `/containers/${inputs.name}/json`);
      // The provider stores these read-backs in state; equal to the inputs means no diff on the next `up`.
      assert.strictEqual(inspect.Image, imageIds[container.name]);
      assert.strictEqual(inspect.HostConfig.NetworkMode, inputs.networkMode);
      assert.strictEqual(inspect.HostConfig.Memory / MIB, inputs.memory);
      assert.strictEqual(inspect.HostConfig.MemorySwap / MIB, inputs.memorySwap);
      assert.strictEqual(inspect.HostConfig.NanoCpus / 1e9, Number(inputs.cpus));
      assert.strictEqual(inspect.HostConfig.RestartPolicy.Name, "unless-stopped");
      assert.deepStrictEqual(inspect.HostConfig.LogConfig, { Type: "json-file", Config: inputs.logOpts });
      assert.deepStrictEqual(inspect.HostConfig.PortBindings, { [`${APP_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(inputs.ports[0].external) }] });
      assert.deepStrictEqual(inspect.Config.Healthcheck.Test, inputs.healthcheck.tests);
      assert.strictEqual(inspect.Config.Labels["optivolt.variant"], container.name);
      assert.strictEqual(inspect.Config.Labels["optivolt.runtime"], container.name.endsWith("-bun") ? "bun" : "node");
      assert.deepStrictEqual(Object.keys(inspect.NetworkSettings.Networks), [networkName], "only on the lab network");
    }
  });

  it("the preflight reads this engine's platform and swap accounting as the engine API reports them", async () => {
    const facts = await systemProbes.engineFacts(undefined);
    const version = await engineApi<{ Os: string; Arch: string }>("GET", "/version");
    const info = await engineApi<{ SwapLimit: boolean }>("GET", "/info");
    assert.deepStrictEqual(facts, { platform: `${version.Os}/${version.Arch}`, swapLimit: info.SwapLimit });
  });

  it("variants reach each other by name on the lab network (how Prometheus scrapes them)", async () => {
    const probe = `fetch('http://minimal:${APP_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))`;
    const from = containers.find((c) => c.name === "standard")!;
    await docker(["exec", from.inputs.name, "node", "-e", probe], { timeoutMs: 30_000 });
  });
});
