import * as assert from "assert";
import { cgroupFiles, statValue } from "../../bench/counters/cgroup";
import { cpuUsageNs, limitsOf, memoryInUseBytes } from "../../bench/counters/docker";
import { parseWrkSummary } from "../../bench/engines/wrk";
import { budgetWarnings, describeNetworkPath } from "../../bench/reach/prepare";
import { hostShares, othersShare, parseHostCpuLine, parsePerCoreBusy } from "../../bench/counters/proc";
import { machineFlag, OTHERS_BOUND } from "../../bench/counters/reference";

describe("bench wrk summary", () => {
  const stdout = [
    "Running 2s test @ http://127.0.0.1:18555/",
    "  23091 requests in 2.00s, 3.79MB read",
    'OPTIVOLT_WRK_JSON {"durationUs":2003461,"requests":23091,"bytes":3971652,"errors":{"connect":1,"read":2,"write":3,"status":40,"timeout":5},' +
      '"latencyUs":{"p50":693,"p90":1860,"p99":9262,"max":31075,"mean":1152.855858}}',
  ].join("\n");

  it("turns the Lua hook's line into milliseconds and error classes", () => {
    const s = parseWrkSummary(stdout);
    assert.strictEqual(s.durationSeconds, 2.003461);
    assert.strictEqual(s.responses, 23091);
    assert.strictEqual(s.bytes, 3971652);
    assert.deepStrictEqual(s.latencyMs, { p50: 0.693, p90: 1.86, p99: 9.262, max: 31.075, mean: 1.152855858 });
    assert.deepStrictEqual(s.errors, { connect: 1, socket: 5, timeouts: 5, non2xx: 40 });
  });

  it("shows wrk's own words when there is no summary", () => {
    assert.throws(() => parseWrkSummary("unable to connect to 127.0.0.1:1 Connection refused"), /wrk printed no summary:\nunable to connect/);
  });
});

describe("bench Docker engine readings", () => {
  it("subtracts inactive page cache like docker stats (cgroup v1 and v2 keys)", () => {
    assert.strictEqual(memoryInUseBytes({ memory_stats: { usage: 100, stats: { total_inactive_file: 30 } } }), 70);
    assert.strictEqual(memoryInUseBytes({ memory_stats: { usage: 100, stats: { inactive_file: 40 } } }), 60);
    assert.strictEqual(memoryInUseBytes({}), null);
    assert.strictEqual(cpuUsageNs({ cpu_stats: { cpu_usage: { total_usage: 5e9 } } }), 5e9);
  });

  it("reads limits from NanoCpus or quota/period", () => {
    assert.deepStrictEqual(limitsOf({ NanoCpus: 500_000_000, Memory: 128 * 1024 * 1024, NetworkMode: "bridge", CpusetCpus: "0" }), { cpus: 0.5, memoryMb: 128, cpuset: "0", networkMode: "bridge" });
    assert.deepStrictEqual(limitsOf({ CpuQuota: 200_000, CpuPeriod: 100_000 }), { cpus: 2, memoryMb: null, cpuset: "", networkMode: "default" });
  });

  it("warns when the declared budget is not what the engine enforces", () => {
    assert.deepStrictEqual(budgetWarnings({ cpus: 2, memoryMb: 512 }, { cpus: 2, memoryMb: 512, cpuset: "", networkMode: "bridge" }, 2), []);
    assert.deepStrictEqual(budgetWarnings({ cpus: 2, memoryMb: 512 }, { cpus: 1, memoryMb: null, cpuset: "", networkMode: "bridge" }, 1), [
      "declared 2 CPUs but the engine enforces a quota of 1 CPUs: per-CPU figures use 1",
      "declared 512 MB but the container's limit is none",
    ]);
    // A 2-CPU quota confined to one core can use one CPU: that is what per-CPU figures divide by.
    assert.deepStrictEqual(budgetWarnings({ cpus: 2, memoryMb: null }, { cpus: 2, memoryMb: null, cpuset: "0", networkMode: "bridge" }, 1), [
      "declared 2 CPUs but the engine enforces a quota of 2 CPUs on cores 0: per-CPU figures use 1",
    ]);
  });

  it("names the network path the load takes", () => {
    const bridge = { cpus: 1, memoryMb: 256, cpuset: "", networkMode: "bridge" };
    assert.strictEqual(describeNetworkPath("http://127.0.0.1:8002", bridge, 42), "127.0.0.1:8002 → docker-proxy (userland, pid 42) → container bridge");
    assert.strictEqual(describeNetworkPath("http://127.0.0.1:8002", bridge, null), "127.0.0.1:8002 → iptables DNAT → container bridge");
    assert.match(describeNetworkPath("http://127.0.0.1:8002", { ...bridge, networkMode: "host" }, null), /host network/);
    assert.match(describeNetworkPath("http://127.0.0.1:8002", null, null), /a process on the host/);
  });
});

describe("bench host CPU share", () => {
  it("counts all but idle and iowait as busy, and irq + softirq apart", () => {
    const before = parseHostCpuLine("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n");
    const after = parseHostCpuLine("cpu  220 0 150 750 150 10 20 0 0 0\n");
    assert.deepStrictEqual(before, { busy: 200, interrupts: 0, steal: 0, total: 1000 });
    assert.deepStrictEqual(hostShares(before, after), { busy: 200 / 300, interrupts: 30 / 300, steal: 0 });
    assert.strictEqual(hostShares(after, before), null);
  });

  it("reads each core's busy time and what others left of the variant's cores", () => {
    // user nice system idle iowait irq softirq steal: busy counts user, nice, system, irq and softirq.
    const before = parsePerCoreBusy("cpu  0 0 0 0 0 0 0 0\ncpu0 100 0 50 900 0 5 5 0\ncpu1 10 0 10 900 0 0 0 0\n");
    const after = parsePerCoreBusy("cpu  0 0 0 0 0 0 0 0\ncpu0 540 0 110 950 0 5 5 40\ncpu1 500 0 20 900 0 0 0 0\n");
    assert.deepStrictEqual(before, [1.6, 0.2]);
    assert.deepStrictEqual(after, [6.6, 5.2]);
    // Core 0 busy 5 s over 5 s, the server used 4 s of it: others took 20 %.
    assert.ok(Math.abs((othersShare(before, after, [0], 4, 5) ?? -1) - 0.2) < 1e-9);
    assert.strictEqual(othersShare(before, after, [0], 5.2, 5), 0, "never below 0 (the server's window is a little wider)");
    assert.strictEqual(othersShare(before, after, [2], 4, 5), null, "a core /proc/stat does not list");
    assert.strictEqual(othersShare(before, after, [], 4, 5), null);
  });

  it("flags a run when other processes used more than the bound of the variant's cores", () => {
    assert.strictEqual(machineFlag({ hostSteal: 0, hostOthers: OTHERS_BOUND, referenceMs: 100 }, 100).reason, null);
    assert.strictEqual(machineFlag({ hostSteal: 0, hostOthers: 0.37, referenceMs: 100 }, 100).reason, "37 % of the variant's cores used by other processes");
    assert.strictEqual(machineFlag({ hostSteal: 0, hostOthers: null, referenceMs: 100 }, 100).reason, null);
  });

  it("reads steal (the eighth column) apart, as a share of all cores", () => {
    const before = parseHostCpuLine("cpu  100 0 100 700 100 0 0 0 0 0\n");
    const after = parseHostCpuLine("cpu  200 0 150 750 150 0 0 50 0 0\n");
    assert.deepStrictEqual(hostShares(before, after), { busy: 200 / 300, interrupts: 0, steal: 50 / 300 });
  });
});

describe("bench cgroup files", () => {
  const id = "04e8c06c1027";
  it("finds the v1 cpuacct and memory directories of a container", () => {
    const text = [`9:name=systemd:/docker/${id}`, `4:memory:/docker/${id}`, `2:cpuacct:/docker/${id}`, `1:cpu:/docker/${id}`, `0::/docker/${id}`].join("\n");
    const files = cgroupFiles(text, "/nonexistent");
    assert.deepStrictEqual(files, { version: 1, cpuFile: `/nonexistent/cpu,cpuacct/docker/${id}/cpuacct.usage`, memoryDir: `/nonexistent/memory/docker/${id}` });
  });

  it("falls back to the unified v2 hierarchy and refuses a private namespace", () => {
    assert.deepStrictEqual(cgroupFiles(`0::/system.slice/docker-${id}.scope\n`, "/sys/fs/cgroup"), {
      version: 2,
      cpuFile: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
      memoryDir: `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    });
    assert.strictEqual(cgroupFiles("0::/\n"), null);
  });

  it("reads keyed stat lines", () => {
    assert.strictEqual(statValue("usage_usec 1500\nuser_usec 1000\n", "usage_usec"), 1500);
    assert.strictEqual(statValue("cache 1\ntotal_inactive_file 4096\n", "inactive_file"), null);
  });
});
