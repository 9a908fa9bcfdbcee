/** The clean measuring path's pure parts: cpusets, generator cores, userland-proxy detection, the plan header. */
import * as assert from "assert";
import { planHeader } from "../../bench/report/tables";
import { allowedCores, enforcedCpus, formatCpuList, planGeneratorCores, variantOwnCores } from "../../bench/reach/cores";
import { portInside } from "../../bench/reach/paths";
import { PreparedVariant } from "../../bench/reach/prepare";
import { formatSeconds } from "../../bench/numbers/format";
import { PlanClock } from "../../bench/session/progress";
import { describeUserlandProxy, userlandProxyFrom } from "../../bench/reach/userlandProxy";
import { cpuListCores, variantSpecSchema } from "../../model/config/variants";
import { makeResults, makeVariant } from "./bench-fixtures";

describe("cpuset in the stack config", () => {
  const spec = { target: "microvm", cpus: 1, memoryMb: 256, hostPort: 8002 };

  it("accepts Linux cpu lists and reads their cores", () => {
    assert.deepStrictEqual(cpuListCores("0"), [0]);
    assert.deepStrictEqual(cpuListCores("0-2,5"), [0, 1, 2, 5]);
    assert.strictEqual(cpuListCores("1-0"), null);
    assert.strictEqual(cpuListCores("one"), null);
    assert.strictEqual(variantSpecSchema.parse({ ...spec, cpuset: "0" }).cpuset, "0");
  });

  it("rejects a bad list and a quota the cpuset could never give", () => {
    const bad = variantSpecSchema.safeParse({ ...spec, cpuset: "first" });
    assert.ok(!bad.success && /cpu list such as "0", "0-1"/.test(bad.error.issues[0].message));
    const tooMany = variantSpecSchema.safeParse({ ...spec, cpus: 2, cpuset: "0" });
    assert.ok(!tooMany.success && tooMany.error.issues[0].path.join(".") === "cpus" && /must not exceed the number of cores in cpuset/.test(tooMany.error.issues[0].message));
  });
});

describe("generator cores", () => {
  it("reads cpusets against the host's cores and writes them back compactly", () => {
    assert.deepStrictEqual(allowedCores("", 2), [0, 1]);
    assert.deepStrictEqual(allowedCores("1", 4), [1]);
    assert.strictEqual(formatCpuList([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
    assert.strictEqual(enforcedCpus(2, "0", 2), 1, "a 2-CPU quota on one core can use one CPU");
    assert.strictEqual(enforcedCpus(null, "", 2), 2);
    assert.strictEqual(enforcedCpus(0.5, "", 2), 0.5);
  });

  it("knows the variant's own cores only when it leaves others free and the generator is pinned off them", () => {
    assert.deepStrictEqual(variantOwnCores("0", "1", 2), [0]);
    assert.strictEqual(variantOwnCores("", "1", 2), null, "a variant on any core shares them with the host");
    assert.strictEqual(variantOwnCores("0", null, 2), null, "an unpinned generator may run on the variant's core");
    assert.strictEqual(variantOwnCores("0-1", "1", 4), null, "the generator on one of the variant's cores");
    assert.deepStrictEqual(variantOwnCores("0-1", "2-3", 4), [0, 1]);
  });

  it("gives the generator the cores no measured variant may use", () => {
    const plan = planGeneratorCores(2, [{ name: "microvm", cpuset: "0", cpus: 1 }]);
    assert.deepStrictEqual(plan.get("microvm"), { cores: [1], clash: null });
    const four = planGeneratorCores(4, [{ name: "a", cpuset: "0", cpus: 1 }, { name: "b", cpuset: "1-2", cpus: 2 }]);
    assert.deepStrictEqual([four.get("a")?.cores, four.get("b")?.cores], [[3], [3]], "one core set for the whole session");
  });

  it("falls back to per-variant cores, and marks a variant that leaves none not measurable here", () => {
    const plan = planGeneratorCores(2, [{ name: "microvm", cpuset: "0", cpus: 1 }, { name: "standard", cpuset: "", cpus: 2 }]);
    assert.deepStrictEqual(plan.get("microvm"), { cores: [1], clash: null });
    const standard = plan.get("standard");
    assert.strictEqual(standard?.cores, null);
    assert.match(standard?.clash ?? "", /^not measurable here: standard \(2 CPUs\) may run on any of the 2 cores \(no cpuset\).*Give it a `cpuset`/);
  });
});

describe("the port inside a variant's namespace", () => {
  const variant = (networkMode: string, ports: { containerPort: number; hostPort: number }[]) =>
    ({
      result: makeVariant("microvm", 1, 256, [], { url: "http://127.0.0.1:8002" }),
      container: { id: "x", name: "x", pid: 1, ports, limits: { cpus: 1, memoryMb: 256, cpuset: "0", networkMode }, state: { running: true, status: "running", oomKilled: false, exitCode: 0 } },
    }) as unknown as PreparedVariant;

  it("is the container port behind the URL's published port", () => {
    assert.strictEqual(portInside(variant("bridge", [{ containerPort: 8000, hostPort: 8002 }])), 8000);
    assert.strictEqual(portInside(variant("host", [])), 8002);
    assert.strictEqual(portInside(variant("bridge", [{ containerPort: 8000, hostPort: 9999 }])), null);
  });
});

describe("userland-proxy detection", () => {
  const base = { dockerdArgs: [] as string[], daemonJson: null, daemonJsonPath: "/etc/docker/daemon.json", proxyProcesses: 0 };

  it("reads the flag, then daemon.json, then the default", () => {
    assert.deepStrictEqual(userlandProxyFrom({ ...base, dockerdArgs: ["--userland-proxy=false"] }), { enabled: false, evidence: "dockerd runs with --userland-proxy=false" });
    assert.strictEqual(userlandProxyFrom({ ...base, daemonJson: '{"userland-proxy": false}' }).enabled, false);
    assert.deepStrictEqual(userlandProxyFrom(base), { enabled: true, evidence: "dockerd's default (no --userland-proxy flag, nothing in /etc/docker/daemon.json)" });
    assert.strictEqual(userlandProxyFrom({ ...base, dockerdArgs: null, proxyProcesses: 2 }).enabled, true);
    assert.strictEqual(userlandProxyFrom({ ...base, dockerdArgs: null }).enabled, null);
  });

  it("says what it costs when on", () => {
    assert.match(describeUserlandProxy({ enabled: true, evidence: "x" }), /^on \(x\): .*~0\.8 of a core.*namespace path does not cross it$/);
    assert.match(describeUserlandProxy({ enabled: false, evidence: "y" }), /^off \(y\)/);
  });
});

describe("what the user sees", () => {
  it("a plan header with path, engine, durations, total time and every warning before the run", () => {
    const settings = { ...makeResults().settings, path: "namespace" as const };
    const standard = makeVariant("standard", 2, 512, [], { notMeasurable: "not measurable here: standard may run on any of the 2 cores", runtime: "bun" });
    const microvm = makeVariant("microvm", 1, 256, [], { warnings: ["declared 2 CPUs but the engine enforces a quota of 1 CPUs: per-CPU figures use 1"], generator: { image: "i", network: "container:m", cpuset: "1" }, enforced: { cpus: 1, memoryMb: 256, cpuset: "0" } });
    const lines = planHeader({ settings, pathSummary: "namespace: wrk ...", engineLine: "wrk 4.1.0", variants: [standard, microvm], runs: 2, plannedSeconds: 26 });
    const text = lines.join("\n");
    assert.match(lines[0], /^OptiVolt bench: quick mode, 2 variants × 1 endpoint × 1 repetition = 2 runs$/);
    assert.match(text, /path: {6}namespace: wrk/);
    assert.match(text, /durations: 3 s warm-up \+ 10 s measured per run \(50 connections\)/);
    assert.match(text, /total: {5}about 26 s/);
    assert.match(text, /microvm +http:\/\/127\.0\.0\.1:8002 +1 CPU, 256 MiB, core\(s\) 0 +— +generator on 1/);
    assert.match(text, /standard .* bun$/m);
    assert.match(text, /⚠ standard: not measurable here/);
    assert.match(text, /⚠ microvm: declared 2 CPUs but the engine enforces/);
  });

  it("an ETA from the planned seconds, scaled by the pace so far", () => {
    let now = 0;
    const clock = new PlanClock(() => now);
    clock.begin(100, 4);
    clock.start(25);
    now = 10_000;
    assert.strictEqual(clock.progressed(), 10);
    assert.strictEqual(clock.etaSeconds(), 90);
    now = 30_000; // the run overran (start-up): 25 planned seconds took 30
    clock.finish();
    assert.strictEqual(clock.etaSeconds(), 75 * (30 / 25));
    clock.skip(50);
    assert.strictEqual(clock.total(), 50);
    assert.strictEqual(formatSeconds(3725), "1 h 02 min");
    assert.strictEqual(formatSeconds(185), "3 min 05 s");
  });
});
