import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, DOCKER_MIN_MEMORY_MB, IMAGE_TARGETS, LabConfig, loadStackConfig, MEMORY_FLOORS_MB, memoryFloorMb, parseStackEntries } from "../../model/config";
import { parse as parseYaml } from "yaml";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { runLabUnderMocks, stackEntries } from "../../policy/offline/mockedLab";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const REMOTE_EXAMPLE_DIR = path.join(PROJECT_DIR, "examples", "remote");

/** The dev stack file with some keys replaced, validated like the program does. */
function devWith(overrides: Record<string, unknown>): LabConfig {
  return parseStackEntries(stackEntries("dev", overrides), "dev");
}

/** Asserts that validation fails, and returns the problems it lists. */
function problemsOf(overrides: Record<string, unknown>): string[] {
  try {
    devWith(overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, /Pulumi\.dev\.yaml/, "the message must say which file to fix");
    return [...error.problems];
  }
  assert.fail("the config was accepted");
}

function withVariant(name: string, changes: Record<string, unknown>): Record<string, unknown> {
  const variants = structuredClone(stackEntries("dev")["optivolt:variants"]) as Record<string, Record<string, unknown>>;
  variants[name] = { ...variants[name], ...changes };
  return { "optivolt:variants": variants };
}

describe("config: the shipped stack files", () => {
  it("dev holds the variant table of docs/runtimes.md on loopback", () => {
    const config = loadStackConfig("dev");
    assert.deepStrictEqual(config.variants, {
      standard: { target: "standard", runtime: "node", cpus: 2, memoryMb: 512, hostPort: 8001 },
      microvm: { target: "microvm", runtime: "node", cpus: 1, memoryMb: 256, hostPort: 8002, cpuset: "0" },
      minimal: { target: "minimal", runtime: "node", cpus: 0.5, memoryMb: 128, hostPort: 8003, cpuset: "0" },
      "standard-bun": { target: "standard", runtime: "bun", cpus: 2, memoryMb: 512, hostPort: 8011 },
      "microvm-bun": { target: "microvm", runtime: "bun", cpus: 1, memoryMb: 256, hostPort: 8012, cpuset: "0" },
      "minimal-bun": { target: "minimal", runtime: "bun", cpus: 0.5, memoryMb: 128, hostPort: 8013, cpuset: "0" },
    });
    assert.strictEqual(config.bindAddress, "127.0.0.1");
    assert.strictEqual(config.endpointHost, "127.0.0.1");
    assert.strictEqual(config.baselineVariant, "standard");
    assert.strictEqual(config.dockerHost, undefined);
    assert.strictEqual(config.unikernel.hostPort, 8004);
    assert.strictEqual(config.unikernel.builder, "auto");
    assert.deepStrictEqual(config.images, {
      nodeImage: "node:22-bookworm-slim",
      nodeMinimalImage: "node:22-bookworm-slim",
      bunImage: "oven/bun:1-debian",
      bunMinimalImage: "oven/bun:1-distroless",
      buildNetwork: "default",
    });
  });

  it("ci builds on the offline bases, on the host network, with the unikernel built from the vendored archives", () => {
    const config = loadStackConfig("ci");
    assert.deepStrictEqual(config.images, { ...LOCAL_BASE_IMAGES, buildNetwork: "host" });
    assert.strictEqual(config.unikernel.enabled, "auto");
    assert.strictEqual(config.unikernel.builder, "source");
    assert.strictEqual(config.unikernel.hostPort, 18004);
    for (const [key, location] of Object.entries(config.unikernel.source.archives)) {
      assert.match(location, /^\.\.\/shared\/vendor\/unikraft\/[^/]+\.(tar\.gz|zip)$/, `unikernel.source.archives.${key}`);
    }
    assert.strictEqual(config.networkName, "optivolt-ci");
    assert.deepStrictEqual(Object.values(config.variants).map((v) => v.hostPort), [18001, 18002, 18003, 18011, 18012, 18013]);
    assert.deepStrictEqual(Object.values(config.variants).map((v) => v.runtime), ["node", "node", "node", "bun", "bun", "bun"]);
  });

  it("the remote example targets an ssh:// engine with the same budgets (cores left to the remote machine)", () => {
    const config = loadStackConfig("remote", REMOTE_EXAMPLE_DIR);
    assert.match(config.dockerHost ?? "", /^ssh:\/\//);
    const withoutCpuset = (variants: LabConfig["variants"]) => Object.fromEntries(Object.entries(variants).map(([name, { cpuset: _, ...spec }]) => [name, spec]));
    assert.deepStrictEqual(config.variants, withoutCpuset(loadStackConfig("dev").variants));
  });

  it("the project root holds only stack files of real stacks; the remote example is out of Pulumi's way, and the doc's copy step works", () => {
    // Pulumi reads every Pulumi.<name>.yaml at the root as the config of stack <name> (a "remote.example" stack).
    const stacks = fs.readdirSync(PROJECT_DIR).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
    assert.deepStrictEqual(stacks.filter((f) => /example/.test(f)), [], "an example at the root is a stack to Pulumi");
    assert.ok(stacks.includes("Pulumi.dev.yaml") && stacks.includes("Pulumi.ci.yaml"));
    for (const doc of ["docs/deploy.md", path.join(path.relative(PROJECT_DIR, REMOTE_EXAMPLE_DIR), "Pulumi.remote.yaml")]) {
      const copy = /cp (\S+) ([\w.]+)/.exec(fs.readFileSync(path.join(PROJECT_DIR, doc), "utf8"));
      assert.ok(copy, `${doc} gives no copy step`);
      assert.deepStrictEqual([copy[1], copy[2]], ["examples/remote/Pulumi.remote.yaml", "Pulumi.remote.yaml"], doc);
      assert.ok(fs.existsSync(path.join(PROJECT_DIR, copy[1])), `${doc}: ${copy[1]} does not exist`);
    }
  });

  it("endpointHost defaults to the bind address, and to loopback when binding every address", () => {
    assert.strictEqual(devWith({ "optivolt:bindAddress": "10.0.0.5" }).endpointHost, "10.0.0.5");
    assert.strictEqual(devWith({ "optivolt:bindAddress": "0.0.0.0" }).endpointHost, "127.0.0.1");
    assert.strictEqual(devWith({ "optivolt:endpointHost": "lab.example.org" }).endpointHost, "lab.example.org");
  });

  it("baselineVariant defaults to the first variant", () => {
    assert.strictEqual(devWith({ "optivolt:baselineVariant": undefined }).baselineVariant, "standard");
  });
});

describe("config: every bad value is named with its key, value and fix", () => {
  it("a negative CPU count", () => {
    const [problem, ...rest] = problemsOf(withVariant("minimal", { cpus: -1 }));
    assert.deepStrictEqual(rest, []);
    assert.match(problem, /^optivolt:variants\.minimal\.cpus: .*got -1$/);
    assert.match(problem, /greater than 0|> ?0/i);
  });

  it("memory Docker accepts but the app cannot live in: refused at config time with the target's floor", () => {
    // 6 MB is Docker's own minimum: the container would restart-loop with exit 137 until `pulumi up` times out.
    const [problem, ...rest] = problemsOf(withVariant("minimal", { memoryMb: DOCKER_MIN_MEMORY_MB }));
    assert.deepStrictEqual(rest, []);
    const floor = memoryFloorMb("minimal");
    assert.strictEqual(
      problem,
      `optivolt:variants.minimal.memoryMb: must be at least ${floor} for target minimal on node: below that one app process runs out of memory ` +
        `under load (its measured floor, see docs/deploy.md "Memory floors"), got ${DOCKER_MIN_MEMORY_MB}`,
    );
    for (const target of IMAGE_TARGETS) {
      assert.ok(memoryFloorMb(target) > DOCKER_MIN_MEMORY_MB);
      assert.strictEqual(devWith(withVariant("minimal", { target, memoryMb: memoryFloorMb(target) })).variants.minimal.memoryMb, memoryFloorMb(target));
      assert.match(problemsOf(withVariant("minimal", { target, memoryMb: memoryFloorMb(target) - 1 }))[0], new RegExp(`must be at least ${memoryFloorMb(target)} for target ${target}`));
    }
  });

  it("memory floors are a table by runtime and target, applied with the variant's runtime", () => {
    for (const runtime of ["node", "bun"] as const) {
      assert.deepStrictEqual(Object.keys(MEMORY_FLOORS_MB[runtime]).sort(), [...IMAGE_TARGETS].sort());
      const floor = memoryFloorMb("minimal", runtime);
      assert.match(problemsOf(withVariant("minimal", { target: "minimal", runtime, memoryMb: floor - 1 }))[0], new RegExp(`must be at least ${floor} for target minimal on ${runtime}`));
    }
  });

  it("two variants on one host port", () => {
    const [problem] = problemsOf(withVariant("microvm", { hostPort: 8001 }));
    assert.match(problem, /^optivolt:variants\.microvm\.hostPort: host port 8001 is already used by variant standard; give each service its own port/);
  });

  it("a variant on a monitoring port", () => {
    const [problem] = problemsOf(withVariant("minimal", { hostPort: 9090 }));
    assert.match(problem, /monitoring\.prometheus\.port: host port 9090 is already used by variant minimal/);
  });

  it("a variant on the unikernel's port, unless the unikernel is off", () => {
    const [problem] = problemsOf(withVariant("minimal", { hostPort: 8004 }));
    assert.match(problem, /unikernel\.hostPort: host port 8004 is already used by variant minimal/);
    const off = { ...withVariant("minimal", { hostPort: 8004 }), "optivolt:unikernel": { enabled: false } };
    assert.strictEqual(devWith(off).variants.minimal.hostPort, 8004);
  });

  it("an unknown runtime, with the allowed list", () => {
    const [problem, ...rest] = problemsOf(withVariant("minimal", { runtime: "deno" }));
    assert.deepStrictEqual(rest, []);
    assert.strictEqual(problem, 'optivolt:variants.minimal.runtime: must be one of node, bun, got "deno"');
  });

  it("a variant without a runtime runs on node", () => {
    const variants = { tiny: { target: "minimal", cpus: 0.25, memoryMb: 96, hostPort: 8010 } };
    assert.strictEqual(devWith({ "optivolt:variants": variants, "optivolt:baselineVariant": "tiny" }).variants.tiny.runtime, "node");
  });

  it("an unknown image target", () => {
    const [problem] = problemsOf(withVariant("minimal", { target: "distroless" }));
    assert.match(problem, /^optivolt:variants\.minimal\.target: .*"standard".*"microvm".*"minimal".*got "distroless"$/);
  });

  it("an unknown key, top level and inside a variant", () => {
    const [top] = problemsOf({ "optivolt:bindAdress": "127.0.0.1" });
    assert.match(top, /unknown key\(s\): bindAdress; remove them or check their spelling/);
    const [nested] = problemsOf(withVariant("standard", { memory: 512 }));
    assert.match(nested, /unknown key\(s\) under optivolt:variants\.standard: memory/);
  });

  it("a bind address that is not an IPv4 address", () => {
    const [problem] = problemsOf({ "optivolt:bindAddress": "localhost" });
    assert.match(problem, /^optivolt:bindAddress: must be an IPv4 address such as 127\.0\.0\.1, got "localhost"$/);
  });

  it("missing variants, and an empty table", () => {
    const [missing] = problemsOf({ "optivolt:variants": undefined });
    assert.match(missing, /^optivolt:variants: .*it is missing$/);
    const [empty, ...rest] = problemsOf({ "optivolt:variants": {} });
    assert.match(empty, /^optivolt:variants: at least one variant is required, got \{\}$/);
    assert.deepStrictEqual(rest, [], "an empty table is one problem, not a second one about the baseline");
  });

  it("a variant name Docker and Prometheus cannot carry", () => {
    const variants = { Big_One: { target: "standard", cpus: 1, memoryMb: 256, hostPort: 8009 } };
    const [problem] = problemsOf({ "optivolt:variants": variants });
    assert.match(problem, /^optivolt:variants: the name "Big_One" is not allowed: variant names are lower-case letters, digits and dashes; rename it$/);
  });

  it("a baseline that names no variant", () => {
    const [problem] = problemsOf({ "optivolt:baselineVariant": "huge" });
    assert.match(problem, /^optivolt:baselineVariant: names no variant; use one of standard, microvm, minimal, standard-bun, microvm-bun, minimal-bun, got "huge"$/);
  });

  it("an image platform that is not os/arch", () => {
    const [problem] = problemsOf({ "optivolt:images": { platform: "amd64" } });
    assert.strictEqual(problem, 'optivolt:images.platform: must be an os/arch platform such as linux/amd64 or linux/arm64, got "amd64"');
    assert.strictEqual(devWith({ "optivolt:images": { platform: "linux/arm64/v8" } }).images.platform, "linux/arm64/v8");
  });

  it("a docker:host that is not an engine address", () => {
    const [problem] = problemsOf({ "docker:host": "lab-host:2375" });
    assert.match(problem, /^docker:host: must be an address such as unix:\/\/\/var\/run\/docker\.sock or ssh:\/\/user@host, got "lab-host:2375"$/);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf({ ...withVariant("minimal", { cpus: 0, memoryMb: 1.5 }), "optivolt:bindAddress": "x" });
    assert.strictEqual(problems.length, 3, problems.join("\n"));
  });

  it("a stack without a stack file", () => {
    assert.throws(() => loadStackConfig("nosuchstack"), (error: unknown) => error instanceof ConfigError && /pulumi stack init nosuchstack/.test(error.message));
  });
});

describe("config: numbers as `pulumi config set --path` writes them", () => {
  // Pulumi.dev.yaml after `pulumi config set --path 'optivolt:variants.minimal.cpus' 0.25` and
  // `pulumi config set --path 'optivolt:monitoring.prometheus.cpus' 0.75`: the CLI rewrites the file
  // with sorted keys, and keeps every value that is not a plain integer as a quoted string.
  const writtenByPulumi = `config:
  optivolt:baselineVariant: standard
  optivolt:bindAddress: 127.0.0.1
  optivolt:monitoring:
    prometheus:
      cpus: "0.75"
  optivolt:unikernel:
    enabled: auto
    hostPort: 8004
  optivolt:variants:
    microvm:
      cpus: 1
      hostPort: 8002
      memoryMb: 256
      target: microvm
    minimal:
      cpus: "0.25"
      hostPort: 8003
      memoryMb: 128
      target: minimal
    standard:
      cpus: 2
      hostPort: 8001
      memoryMb: 512
      target: standard
`;
  const entries = () => (parseYaml(writtenByPulumi) as { config: Record<string, unknown> }).config;

  it("takes the quoted decimal as the number it spells", () => {
    const config = parseStackEntries(entries(), "dev");
    assert.strictEqual(config.variants.minimal.cpus, 0.25);
    assert.strictEqual(config.monitoring.prometheus.cpus, 0.75);
  });

  it("and so does the program: the container gets 0.25 CPUs", async () => {
    const run = await runLabUnderMocks("dev", entries());
    const minimal = run.resources.find((r) => r.type === "docker:index/container:Container" && r.parent?.name === "minimal");
    assert.strictEqual(minimal?.inputs.cpus, "0.25");
  });

  it("every numeric key takes a numeric string", () => {
    const config = devWith({
      ...withVariant("minimal", { cpus: "0.5", memoryMb: "128", hostPort: "8003", workers: "1" }),
      "optivolt:monitoring": { prometheus: { port: "19090", memoryMb: "256" }, cadvisor: { cpus: "0.1" } },
      "optivolt:unikernel": { enabled: false, memoryMi: "256", hostPort: "18004", healthTimeoutSeconds: "60" },
    });
    assert.deepStrictEqual(config.variants.minimal, { target: "minimal", runtime: "node", cpus: 0.5, memoryMb: 128, hostPort: 8003, cpuset: "0", workers: 1 });
    assert.strictEqual(config.monitoring.prometheus.port, 19090);
    assert.strictEqual(config.monitoring.prometheus.memoryMb, 256);
    assert.strictEqual(config.monitoring.cadvisor.cpus, 0.1);
    assert.strictEqual(config.unikernel.memoryMi, 256);
    assert.strictEqual(config.unikernel.hostPort, 18004);
    assert.strictEqual(config.unikernel.healthTimeoutSeconds, 60);
  });

  it("refuses text that is not a finite number with one line per key", () => {
    const problems = problemsOf({
      ...withVariant("minimal", { cpus: "a quarter", memoryMb: "128.5", hostPort: "0x1F43" }),
      "optivolt:monitoring": { grafana: { port: "Infinity" } },
    });
    assert.deepStrictEqual(problems, [
      'optivolt:variants.minimal.cpus: must be a number, got "a quarter"',
      'optivolt:variants.minimal.memoryMb: must be a whole number, got "128.5"',
      'optivolt:variants.minimal.hostPort: must be a number, got "0x1F43"',
      'optivolt:monitoring.grafana.port: must be a number, got "Infinity"',
    ]);
  });
});
