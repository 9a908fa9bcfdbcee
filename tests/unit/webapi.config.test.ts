import * as assert from "assert";
import { EnvError, parseEnv } from "../../images/src/config";
import { parseCfsQuota, parseCpuMax, readCpuQuota, workerCount } from "../../images/src/workers";

describe("web API: environment", function () {
  it("defaults every setting", function () {
    assert.deepStrictEqual(parseEnv({}), {
      port: 8000,
      host: "0.0.0.0",
      variant: "local",
      workers: undefined,
      slowDelayMs: 1000,
      shutdownTimeoutMs: 5000,
    });
  });

  it("reads the values users tune", function () {
    const config = parseEnv({ PORT: "9000", VARIANT: "minimal", WORKERS: "3", SLOW_DELAY_MS: "250", SHUTDOWN_TIMEOUT_MS: "100", HOST: "127.0.0.1" });
    assert.deepStrictEqual(config, { port: 9000, host: "127.0.0.1", variant: "minimal", workers: 3, slowDelayMs: 250, shutdownTimeoutMs: 100 });
  });

  it('treats WORKERS="auto" and an empty WORKERS as "size from the quota"', function () {
    assert.strictEqual(parseEnv({ WORKERS: "auto" }).workers, undefined);
    assert.strictEqual(parseEnv({ WORKERS: "" }).workers, undefined);
  });

  it("names every bad variable in one error", function () {
    assert.throws(
      () => parseEnv({ PORT: "80a", WORKERS: "0", SLOW_DELAY_MS: "-1", VARIANT: "bad name!" }),
      (error: unknown) => {
        assert.ok(error instanceof EnvError);
        assert.match(error.message, /PORT="80a": must be a whole number from 1 to 65535/);
        assert.match(error.message, /WORKERS="0": must be "auto"/);
        assert.match(error.message, /SLOW_DELAY_MS="-1"/);
        assert.match(error.message, /VARIANT="bad name!"/);
        return true;
      },
    );
  });

  it("rejects ports out of range and non-decimal numbers", function () {
    assert.throws(() => parseEnv({ PORT: "70000" }), /PORT="70000"/);
    assert.throws(() => parseEnv({ PORT: "0x50" }), /PORT="0x50"/);
    assert.throws(() => parseEnv({ PORT: "1e3" }), /PORT="1e3"/);
  });
});

describe("web API: worker sizing from the cgroup CPU quota", function () {
  it("parses cgroup v2 cpu.max", function () {
    assert.strictEqual(parseCpuMax("200000 100000\n"), 2);
    assert.strictEqual(parseCpuMax("50000 100000"), 0.5);
    assert.strictEqual(parseCpuMax("max 100000"), undefined);
    assert.strictEqual(parseCpuMax("garbage"), undefined);
  });

  it("parses cgroup v1 cfs quota and period", function () {
    assert.strictEqual(parseCfsQuota("150000\n", "100000\n"), 1.5);
    assert.strictEqual(parseCfsQuota("-1", "100000"), undefined);
  });

  it("prefers cgroup v2, falls back to v1 (both mount layouts), else reports no quota", function () {
    const files = (entries: Record<string, string>) => (path: string) => entries[path];
    assert.strictEqual(readCpuQuota(files({ "/sys/fs/cgroup/cpu.max": "100000 100000" })), 1);
    assert.strictEqual(
      readCpuQuota(files({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "200000", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000" })),
      2,
    );
    assert.strictEqual(
      readCpuQuota(files({ "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "50000", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000" })),
      0.5,
    );
    assert.strictEqual(readCpuQuota(files({})), undefined);
  });

  it("runs one worker per CPU of the quota, at least one, at most the CPUs available", function () {
    assert.strictEqual(workerCount({ quotaCpus: 2, availableCpus: 8 }), 2);
    assert.strictEqual(workerCount({ quotaCpus: 0.5, availableCpus: 8 }), 1);
    assert.strictEqual(workerCount({ quotaCpus: 1, availableCpus: 8 }), 1);
    assert.strictEqual(workerCount({ quotaCpus: 1.2, availableCpus: 8 }), 1);
    assert.strictEqual(workerCount({ quotaCpus: 1.5, availableCpus: 8 }), 2);
    assert.strictEqual(workerCount({ quotaCpus: 4, availableCpus: 2 }), 2);
    assert.strictEqual(workerCount({ availableCpus: 6 }), 6);
  });

  it("lets WORKERS override the quota", function () {
    assert.strictEqual(workerCount({ override: 3, quotaCpus: 0.5, availableCpus: 2 }), 3);
  });
});
