import * as assert from "assert";
import { ConfigError, LabConfig, loadStackConfig, parseStackEntries } from "../../model/config";
import { placementConstraints, variantScheduling } from "../../model/config/swarm";
import { stackEntries } from "../../policy/offline/mockedLab";

/** The swarm stack file with `optivolt:swarm` keys replaced, validated like the program does. */
function swarmWith(changes: Record<string, unknown>, extra: Record<string, unknown> = {}): LabConfig {
  const swarm = { ...(stackEntries("swarm")["optivolt:swarm"] as Record<string, unknown>), ...changes };
  return parseStackEntries(stackEntries("swarm", { "optivolt:swarm": swarm, ...extra }), "swarm");
}

function problemsOf(changes: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  try {
    swarmWith(changes, extra);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail("the config was accepted");
}

describe("config: optivolt:engine and optivolt:swarm", () => {
  it("defaults to the docker engine, so the docker stacks keep today's behaviour", () => {
    for (const stack of ["dev", "ci"]) assert.strictEqual(loadStackConfig(stack).engine, "docker");
  });

  it("reads the swarm stack: one replica on optivolt.role=lab nodes, host ports, dnsrr, the registry on the manager", () => {
    const config = loadStackConfig("swarm");
    assert.strictEqual(config.engine, "swarm");
    assert.strictEqual(config.swarm.publishMode, "host");
    assert.strictEqual(config.swarm.endpointMode, "dnsrr");
    assert.deepStrictEqual(variantScheduling(config.swarm, "standard"), { replicas: 1, placement: { labels: { "optivolt.role": "lab" } } });
    assert.match(config.swarm.registry.address ?? "", /^[a-z0-9.-]+:\d+$/);
    assert.match(config.swarm.registry.image, /:[0-9.]+$/);
  });

  it("turns a placement into Swarm constraints, and lets one variant have its own", () => {
    const config = swarmWith({
      publishMode: "ingress",
      endpointMode: "vip",
      variants: { minimal: { replicas: 2, placement: { node: "node-2", labels: { "optivolt.role": "lab", disk: "ssd" } } } },
    });
    assert.deepStrictEqual(placementConstraints(variantScheduling(config.swarm, "standard").placement), ["node.labels.optivolt.role==lab"]);
    const minimal = variantScheduling(config.swarm, "minimal");
    assert.strictEqual(minimal.replicas, 2);
    assert.deepStrictEqual(placementConstraints(minimal.placement), ["node.hostname==node-2", "node.labels.optivolt.role==lab", "node.labels.disk==ssd"]);
  });

  it("refuses a placement on the load generator's label, ingress with dnsrr, and overrides for unknown variants", () => {
    const problems = problemsOf({ placement: { labels: { "optivolt.role": "loadgen" } }, publishMode: "ingress", variants: { nope: { replicas: 1 } } });
    assert.strictEqual(problems.length, 3, problems.join("\n"));
    assert.match(problems[0], /^optivolt:swarm\.placement\.labels: optivolt\.role=loadgen marks the load generator's node/);
    assert.match(problems[1], /^optivolt:swarm\.endpointMode: ingress publishing needs the `vip` endpoint mode/);
    assert.match(problems[2], /^optivolt:swarm\.variants\.nope: names no variant; use one of standard, microvm, minimal/);
  });

  it("refuses several host-mode tasks pinned to one node (they would share its port)", () => {
    const [problem, ...rest] = problemsOf({ variants: { minimal: { replicas: 2, placement: { node: "node-2" } } } });
    assert.deepStrictEqual(rest, []);
    assert.match(problem, /^optivolt:swarm\.variants\.minimal\.replicas: 2 tasks on the one node node-2 cannot share its host-mode port/);
  });

  it("requires a registry address and a reason for publishing on the nodes, unless nothing is published", () => {
    const problems = problemsOf({ registry: {}, publishedPortsReason: undefined });
    assert.strictEqual(problems.length, 2, problems.join("\n"));
    assert.match(problems[0], /^optivolt:swarm\.publishedPortsReason: Swarm publishes ports on every address of a node/);
    assert.match(problems[1], /^optivolt:swarm\.registry\.address: every node pulls/);
    assert.doesNotThrow(() => swarmWith({ publishMode: "none", publishedPortsReason: undefined }));
  });

  it("checks swarm keys only on a swarm stack", () => {
    const dev = parseStackEntries(stackEntries("dev"), "dev");
    assert.strictEqual(dev.swarm.registry.address, undefined);
  });
});
