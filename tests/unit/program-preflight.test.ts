import * as assert from "assert";
import * as net from "net";
import { LabConfig, loadStackConfig } from "../../model/config";
import {
  containerPortClaims,
  isLocalEngine,
  parsePublishedPorts,
  parseSwapLimit,
  PreflightError,
  PreflightProbes,
  PublishedPort,
  runPreflight,
  systemProbes,
} from "../../components/preflight";

/** Fake machine: an engine that answers, the given published ports, and bind errors by port. */
function machine(published: PublishedPort[] = [], bindErrors: Record<number, string> = {}, calls: string[] = []): PreflightProbes {
  return {
    engineVersion: async (host) => {
      calls.push(`engine ${host ?? "local"}`);
      return "20.10.24";
    },
    engineFacts: async (host) => {
      calls.push(`facts ${host ?? "local"}`);
      return { platform: "linux/arm64", swapLimit: false };
    },
    publishedPorts: async () => published,
    bindError: async (address, port) => {
      calls.push(`bind ${address}:${port}`);
      return bindErrors[port];
    },
  };
}

async function problemsOf(config: LabConfig, probes: PreflightProbes): Promise<string[]> {
  try {
    await runPreflight(config, probes, {});
  } catch (error) {
    assert.ok(error instanceof PreflightError, `expected a PreflightError, got ${String(error)}`);
    assert.match(error.message, /nothing was created/);
    return [...error.problems];
  }
  assert.fail("the preflight passed");
}

describe("preflight", () => {
  const dev = loadStackConfig("dev");

  it("passes on a free machine, probing every container port on the bind address", async () => {
    const calls: string[] = [];
    await runPreflight(dev, machine([], {}, calls), {});

    assert.deepStrictEqual(calls, ["engine local", "facts local", ...[8001, 8002, 8003, 8011, 8012, 8013, 9090, 8081, 3000].map((p) => `bind 127.0.0.1:${p}`)]);
  });

  it("reads the engine's platform and swap accounting, and on a preview probes no port", async () => {
    const calls: string[] = [];
    const facts = await runPreflight(dev, machine([], { 8001: "EADDRINUSE" }, calls), {}, { deploying: false });
    assert.deepStrictEqual(facts, { engine: { platform: "linux/arm64", swapLimit: false } });
    assert.deepStrictEqual(calls, ["engine local", "facts local"]);
  });

  it("parses docker info's SwapLimit", () => {
    assert.strictEqual(parseSwapLimit("true\n"), true);
    assert.strictEqual(parseSwapLimit("false"), false);
    assert.throws(() => parseSwapLimit("<no value>"), /unexpected SwapLimit/);
  });

  it("says how to start the engine when it does not answer, and checks nothing else", async () => {
    const probes: PreflightProbes = { ...machine(), engineVersion: async () => Promise.reject(new Error("Cannot connect to the Docker daemon at unix:///var/run/docker.sock")) };
    const [problem, ...rest] = await problemsOf(dev, probes);
    assert.deepStrictEqual(rest, []);
    assert.match(problem, /no Docker engine answered at the local socket[^]*Cannot connect[^]*sudo systemctl start docker[^]*docker:host/);
  });

  it("treats an engine DOCKER_HOST names elsewhere as remote, like the provider does", async () => {
    const calls: string[] = [];
    await runPreflight(dev, machine([], { 8001: "EADDRINUSE" }, calls), { DOCKER_HOST: "tcp://10.0.0.2:2376" });
    assert.deepStrictEqual(calls, ["engine local", "facts local"], "docker:host is unset, so the CLI itself picks DOCKER_HOST up");
    await assert.rejects(runPreflight(dev, machine([], { 8001: "EADDRINUSE" }), {}), PreflightError);
  });

  it("asks the engine named by docker:host", async () => {
    const calls: string[] = [];
    const remote = { ...dev, dockerHost: "ssh://lab@far.example.org" };
    await runPreflight(remote, machine([], { 8001: "EADDRINUSE" }, calls), {});
    assert.deepStrictEqual(calls, ["engine ssh://lab@far.example.org", "facts ssh://lab@far.example.org"], "a remote engine's ports cannot be probed by binding here");
  });

  it("names the foreign container that publishes a lab port, and the fix", async () => {
    const problems = await problemsOf(dev, machine([{ container: "web", address: "0.0.0.0", port: 3000 }]));
    assert.deepStrictEqual(problems, [
      'host port 3000 (for Grafana) is already published by container web; stop it, or give Grafana another port in Pulumi.dev.yaml',
    ]);
  });

  it("accepts ports the lab's own containers hold (a second `up`)", async () => {
    const own = [8001, 8002, 8003].map((port, i) => ({ container: `optivolt-lab-${["standard", "microvm", "minimal"][i]}`, address: "127.0.0.1", port }));
    await runPreflight(dev, machine(own, { 8001: "EADDRINUSE", 8002: "EADDRINUSE", 8003: "EADDRINUSE" }), {});
  });

  it("ignores a container on the same port but another address", async () => {
    await runPreflight(dev, machine([{ container: "web", address: "10.0.0.7", port: 8001 }]), {});
  });

  it("reports a port another process holds, listing every taken port at once", async () => {
    const problems = await problemsOf(dev, machine([], { 8002: "EADDRINUSE", 9090: "EADDRINUSE" }));
    assert.strictEqual(problems.length, 2);
    assert.match(problems[0], /^host port 8002 on 127\.0\.0\.1 \(for variant microvm\) is taken by another process \(EADDRINUSE\); stop it, or give variant microvm another port in Pulumi\.dev\.yaml/);
    assert.match(problems[1], /host port 9090 .*Prometheus/);
  });

  it("reports a bind address this machine does not have once", async () => {
    const all = Object.fromEntries([8001, 8002, 8003, 8011, 8012, 8013, 9090, 8081, 3000].map((p) => [p, "EADDRNOTAVAIL"]));
    const problems = await problemsOf({ ...dev, bindAddress: "10.9.9.9" }, machine([], all));
    assert.deepStrictEqual(problems.length, 1);
    assert.match(problems[0], /^optivolt:bindAddress 10\.9\.9\.9 is not an address of this machine/);
  });

  it("claims the monitoring ports only when monitoring is on", () => {
    assert.deepStrictEqual(containerPortClaims(dev).map((c) => c.port), [8001, 8002, 8003, 8011, 8012, 8013, 9090, 8081, 3000]);
    const off = { ...dev, monitoring: { ...dev.monitoring, enabled: false } };
    assert.deepStrictEqual(containerPortClaims(off).map((c) => c.owner), ["variant standard", "variant microvm", "variant minimal", "variant standard-bun", "variant microvm-bun", "variant minimal-bun"]);
  });

  it("tells a local engine address from a remote one", () => {
    for (const host of [undefined, "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "tcp://localhost"]) assert.ok(isLocalEngine(host), String(host));
    for (const host of ["ssh://lab@far", "tcp://10.0.0.2:2376"]) assert.ok(!isLocalEngine(host), host);
  });

  it("parses docker ps port columns, ranges and IPv6 included", () => {
    const ps = [
      "optivolt-lab-standard\t127.0.0.1:8001->8000/tcp",
      "web\t0.0.0.0:80->80/tcp, :::80->80/tcp, 0.0.0.0:9000-9001->9000-9001/tcp",
      "worker\t8000/tcp",
      "",
    ].join("\n");
    assert.deepStrictEqual(parsePublishedPorts(ps), [
      { container: "optivolt-lab-standard", address: "127.0.0.1", port: 8001 },
      { container: "web", address: "0.0.0.0", port: 80 },
      { container: "web", address: "0.0.0.0", port: 80 },
      { container: "web", address: "0.0.0.0", port: 9000 },
      { container: "web", address: "0.0.0.0", port: 9001 },
    ]);
  });

  it("the real bind probe sees a port in use and a free one", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.strictEqual(await systemProbes.bindError("127.0.0.1", port), "EADDRINUSE");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.strictEqual(await systemProbes.bindError("127.0.0.1", port), undefined);
  });
});
