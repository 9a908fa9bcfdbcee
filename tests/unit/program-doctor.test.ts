import * as assert from "assert";
import { Check, nodeOutcome, prerequisiteChecks, verdict } from "../../scripts/doctor";

function check(name: string, required: boolean): Check {
  return { name, required, purpose: `${name} purpose`, fix: `install ${name}`, run: async () => ({ ok: true, detail: "" }) };
}

describe("npm run doctor", () => {
  it("requires Node 20 or newer", () => {
    assert.strictEqual(nodeOutcome("v20.0.0").ok, true);
    assert.strictEqual(nodeOutcome("v22.11.0").ok, true);
    assert.deepStrictEqual(nodeOutcome("v18.19.1"), { ok: false, detail: "node v18.19.1 is older than 20" });
  });

  it("checks node, docker, the engine and pulumi as required; kraft and debootstrap as optional", () => {
    const checks = prerequisiteChecks(undefined);
    const required = checks.filter((c) => c.required).map((c) => c.name);
    assert.deepStrictEqual(required, ["Node.js ≥ 20", "docker CLI", "Docker engine (DOCKER_HOST or the local socket)", "Pulumi CLI"]);
    const optional = checks.filter((c) => !c.required).map((c) => c.name.split(" ")[0]);
    assert.ok(optional.includes("kraft") && optional.includes("debootstrap"), optional.join(", "));
    for (const c of checks) assert.ok(c.fix.length > 0 && c.purpose.length > 0, `${c.name} needs a fix and a purpose`);
  });

  it("names the engine of a stack's docker:host", () => {
    assert.ok(prerequisiteChecks("ssh://lab@far").some((c) => c.name === "Docker engine (ssh://lab@far)"));
  });

  it("fails only when a required prerequisite is missing, and shows how to get each missing one", () => {
    const optionalMissing = verdict([
      { check: check("pulumi", true), outcome: { ok: true, detail: "v3.140.0" } },
      { check: check("kraft", false), outcome: { ok: false, detail: "kraft is not on the PATH" } },
    ]);
    assert.deepStrictEqual(optionalMissing.missingRequired, []);
    assert.ok(optionalMissing.lines.some((l) => l.includes("fix: install kraft")));

    const requiredMissing = verdict([{ check: check("pulumi", true), outcome: { ok: false, detail: "pulumi is not on the PATH" } }]);
    assert.deepStrictEqual(requiredMissing.missingRequired, ["pulumi"]);
    assert.match(requiredMissing.lines.join("\n"), /MISS +pulumi: pulumi is not on the PATH[^]*fix: install pulumi[^]*Missing required prerequisite\(s\): pulumi/);
  });
});
