// The stack config refuses what the web API would refuse at start (a container that restart-loops
// until the 120 s health wait fails): both read images/src/limits.ts.
import * as assert from "assert";
import { parseStackEntries } from "../../model/config";
import { parseEnv } from "../../images/src/config";
import { MAX_VARIANT_NAME_LENGTH, MAX_WORKERS } from "../../images/src/limits";

describe("the stack config and the web API share their limits (images/src/limits.ts)", () => {
  const stack = (name: string, workers?: number) => ({
    "optivolt:variants": { [name]: { target: "standard", cpus: 1, memoryMb: 256, hostPort: 18100, ...(workers === undefined ? {} : { workers }) } },
  });
  const appAccepts = (env: Record<string, string>) => {
    try {
      parseEnv(env);
      return true;
    } catch {
      return false;
    }
  };
  const configAccepts = (entries: Record<string, unknown>) => {
    try {
      parseStackEntries(entries, "t");
      return true;
    } catch {
      return false;
    }
  };

  it("workers: the config accepts exactly what the app accepts at start", () => {
    for (const workers of [1, MAX_WORKERS, MAX_WORKERS + 1, 300]) {
      assert.strictEqual(configAccepts(stack("a", workers)), appAccepts({ WORKERS: String(workers) }), `workers ${workers}`);
    }
    assert.throws(() => parseStackEntries(stack("a", 300), "t"), /optivolt:variants\.a\.workers: must be at most 256 \(the web API refuses more at start\), got 300/);
  });

  it("variant names: the config refuses a name the app would refuse as VARIANT", () => {
    for (const length of [1, MAX_VARIANT_NAME_LENGTH, MAX_VARIANT_NAME_LENGTH + 1, 64, 80]) {
      const name = "a".repeat(length);
      assert.strictEqual(configAccepts(stack(name)), appAccepts({ VARIANT: name }), `a name of ${length} characters`);
    }
    assert.throws(() => parseStackEntries(stack("a".repeat(64)), "t"), /at most 63 characters \(the web API refuses a longer VARIANT at start\)/);
  });
});
