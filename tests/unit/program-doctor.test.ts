import * as assert from "assert";
import * as path from "path";
import { AccelerationProbes, accelerationOutcome, buildToolsOutcome, Check, microvmPackagesOutcome, nodeOutcome, prerequisiteChecks, verdict } from "../../scripts/doctor";
import { loadStackConfig } from "../../model/config";

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

  it("checks QEMU, the unikernel build tools and the acceleration as optional, and keeps kraft's line", () => {
    const names = prerequisiteChecks(undefined).filter((c) => !c.required).map((c) => c.name);
    for (const name of ["kraft (optional: or the source builder)", "qemu-system-x86_64 (optional: the source builder)", "unikernel build tools (optional: the source builder)", "unikernel acceleration"]) {
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    }
  });

  it("reports the build tools on one line: make's version, or every missing tool with one install command", async () => {
    const all = await buildToolsOutcome(() => true, async () => "GNU Make 4.3\nBuilt for x86_64");
    assert.deepStrictEqual(all, { ok: true, detail: "GNU Make 4.3; gcc, flex, bison, unzip present" });
    const some = await buildToolsOutcome((tool) => tool !== "flex" && tool !== "bison", async () => "GNU Make 4.3");
    assert.deepStrictEqual(some, { ok: false, detail: "flex, bison not on the PATH" });
    const fix = prerequisiteChecks(undefined).find((c) => c.name.startsWith("unikernel build tools"))!.fix;
    assert.match(fix, /apt-get install --no-install-recommends make gcc flex bison unzip/);
  });

  describe("which acceleration works", () => {
    const probes = (over: Partial<AccelerationProbes>): AccelerationProbes => ({
      kvmUsable: () => true,
      builtKernels: () => [],
      resolveAccel: async () => assert.fail("no probe boot without a kernel"),
      ...over,
    });

    it("without a built kernel, says whether /dev/kvm is usable and that KVM is probed at the first boot", async () => {
      assert.match((await accelerationOutcome(probes({}))).detail, /^\/dev\/kvm is usable; KVM is probed at the first boot/);
      assert.match((await accelerationOutcome(probes({ kvmUsable: () => false }))).detail, /^tcg: \/dev\/kvm is not usable here/);
    });

    it("with a built kernel, reports qemu.sh accel's choice and its reason", async () => {
      const kernel = path.resolve(__dirname, "../../unikernel/.build/ci/kernel/elfloader_qemu-x86_64");
      const reason = "unikernel qemu: acceleration tcg (a probe boot under KVM did not reach Unikraft's banner within 10 s)\n";
      const outcome = await accelerationOutcome(probes({ builtKernels: () => [kernel], resolveAccel: async (k) => (assert.strictEqual(k, kernel), { accel: "tcg", reason }) }));
      assert.deepStrictEqual(outcome, {
        ok: true,
        detail: "tcg (a probe boot under KVM did not reach Unikraft's banner within 10 s), from `qemu.sh accel` on unikernel/.build/ci/kernel/elfloader_qemu-x86_64",
      });
      const failed = await accelerationOutcome(probes({ builtKernels: () => [kernel], resolveAccel: async () => Promise.reject(new Error("unikernel qemu: qemu-system-x86_64 is missing")) }));
      assert.deepStrictEqual(failed, { ok: false, detail: "unikernel qemu: qemu-system-x86_64 is missing" });
    });
  });

  it("checks the micro-VM's tools and the kernel and busybox packages its stack names", async () => {
    const names = prerequisiteChecks(undefined).filter((c) => !c.required).map((c) => c.name);
    assert.ok(names.includes("micro-VM build tools (optional: micro-VM variants)"), names.join("\n"));
    const { microvms } = loadStackConfig("ci");
    const vendored = microvmPackagesOutcome(microvms, () => true);
    assert.deepStrictEqual(vendored, { ok: true, detail: "linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb, busybox-static_1.35.0-4+deb12u1+b1_amd64.deb" });
    const gone = microvmPackagesOutcome(microvms, (file) => !file.includes("linux-image"));
    assert.ok(!gone.ok && /^microvm-vm: \.\.\/shared\/vendor\/linux\/linux-image-.*\.deb does not exist$/.test(gone.detail), gone.detail);
    assert.match(microvmPackagesOutcome(loadStackConfig("dev").microvms, () => false).detail, /^linux-image-cloud-amd64 \(apt-get download at build\), busybox-static \(apt-get download at build\)$/);
    assert.match(microvmPackagesOutcome(null, () => true).detail, /npm run doctor -- --stack NAME/);
    const row = prerequisiteChecks(undefined, undefined, microvms).find((c) => c.name.startsWith("micro-VM kernel packages"))!;
    assert.ok((await row.run()).ok, "the ci stack's vendored packages exist in this checkout's ../shared");
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
