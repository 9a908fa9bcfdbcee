import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as docker from "@pulumi/docker";
import { loadStackConfig } from "../../model/config";
import { analyzeRecorded, checkStack } from "../../policy/check";
import { exitCodeOf, formatAnalysis } from "../../policy/offline/report";
import { parseQemuStart } from "../../policy/qemu";
import { runLabUnderMocks } from "../../policy/offline/mockedLab";
import { recordUnderMocks, runPolicyCheck } from "../support/policyHarness";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");

describe("policy: the whole program under mocks", () => {
  for (const stack of ["dev", "ci"]) {
    it(`has no mandatory violation on the ${stack} stack`, async () => {
      const analysis = await checkStack({ stack });
      const mandatory = analysis.violations.filter((v) => v.enforcementLevel === "mandatory");
      assert.deepStrictEqual(mandatory, [], formatAnalysis(analysis, stack));
      assert.strictEqual(exitCodeOf(analysis), 0);
      // The checks ran on the real graph: six variants (three budgets × two runtimes), three monitoring containers, one Grafana.
      assert.strictEqual(analysis.applied.get("container-resource-limits"), 9);
      assert.strictEqual(analysis.applied.get("grafana-admin-password-not-literal"), 1);
    });
  }

  it("has no violation at all on the swarm stack, whose services the pack checks like containers", async () => {
    const analysis = await checkStack({ stack: "swarm" });
    assert.deepStrictEqual(analysis.violations, [], formatAnalysis(analysis, "swarm"));
    // Three variants, the registry, Prometheus, cAdvisor and Grafana, as services.
    assert.strictEqual(analysis.applied.get("container-resource-limits"), 7);
    assert.strictEqual(analysis.applied.get("ports-bind-loopback"), 7);
    assert.strictEqual(analysis.applied.get("no-privileged-without-exemption"), 7);
  });

  it("fails a stack config that publishes beyond loopback", async () => {
    const analysis = await checkStack({ stack: "dev", overrides: { "optivolt:bindAddress": "0.0.0.0" } });
    assert.strictEqual(exitCodeOf(analysis), 1);
    const wide = analysis.violations.filter((v) => v.policyName === "ports-bind-loopback");
    assert.ok(wide.length >= 3, formatAnalysis(analysis, "dev"));
    assert.match(wide[0].message, /publishes host port \d+ on 0\.0\.0\.0; set the port's `ip` to 127\.0\.0\.1/);
  });
});

/**
 * The ci stack's program as an update (`pulumi up`; at preview the QEMU command line is not known
 * yet: it names the lab network's gateway), on a PATH that has QEMU and make whatever this machine has.
 */
async function recordCiUpdate() {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-policy-qemu-"));
  for (const tool of ["qemu-system-x86_64", "make"]) fs.writeFileSync(path.join(bin, tool), "#!/bin/sh\n", { mode: 0o755 });
  const pathBefore = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${pathBefore ?? ""}`;
  try {
    return (await runLabUnderMocks("ci", {}, { program: "deployLab", preview: false })).resources;
  } finally {
    process.env.PATH = pathBefore;
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

describe("policy: the ci stack's source-built unikernel", () => {
  it("passes every policy as an update, unikernel-memory-set applied to both QEMU runs (the unikernel and the micro-VM)", async () => {
    const resources = await recordCiUpdate();
    const runs = resources.filter((r) => typeof r.inputs.create === "string" && parseQemuStart(r.inputs.create) !== undefined);
    const ci = loadStackConfig("ci");
    assert.deepStrictEqual(runs.map((r) => parseQemuStart(r.inputs.create)?.memory), [String(ci.unikernel.memoryMi), String(ci.microvms["microvm-vm"].memoryMb)]);
    const analysis = await analyzeRecorded(resources, "ci");
    assert.deepStrictEqual(analysis.violations, [], formatAnalysis(analysis, "ci"));
    assert.strictEqual(analysis.applied.get("unikernel-memory-set"), 2);
  });

  it("guest-forwards-bind-loopback reads qemu.sh --forward: loopback and the lab network's gateway pass, another address fails", async () => {
    const resources = await recordCiUpdate();
    const run = resources.find((r) => typeof r.inputs.create === "string" && parseQemuStart(r.inputs.create) !== undefined);
    assert.ok(run);
    assert.deepStrictEqual(parseQemuStart(run.inputs.create)?.ports, ["127.0.0.1:18004", "172.30.0.1:18004"], "the bind address, then the mocked lab gateway");
    const clean = await analyzeRecorded(resources, "ci");
    assert.strictEqual(clean.applied.get("guest-forwards-bind-loopback"), 1);
    assert.deepStrictEqual(clean.violations, []);
    // The same run forwarding on a LAN address: nothing else in the graph changes.
    const widen = (props: Record<string, any>) => ({ ...props, create: String(props.create).replace("127.0.0.1:18004", "192.168.1.20:18004") });
    const wide = resources.map((r) => (r === run ? { ...r, inputs: widen(r.inputs), state: widen(r.state) } : r));
    const analysis = await analyzeRecorded(wide, "ci");
    const messages = analysis.violations.filter((v) => v.policyName === "guest-forwards-bind-loopback").map((v) => v.message);
    assert.deepStrictEqual(messages, [
      'command.local.Command "unikernel-run" forwards host port 18004 to its QEMU guest on 192.168.1.20, which is neither loopback nor the lab network\'s gateway; ' +
        "set optivolt:bindAddress to 127.0.0.1, or allow the address in the pack config (guest-forwards-bind-loopback.allowedBindAddresses).",
    ]);
    const allowed = await analyzeRecorded(wide, "ci", { "guest-forwards-bind-loopback": { allowedBindAddresses: ["192.168.1.20"] } });
    assert.deepStrictEqual(allowed.violations, []);
    // The micro-VM's run command is held to the same rule.
    const microvmRun = resources.find((r) => typeof r.inputs.create === "string" && parseQemuStart(r.inputs.create)?.ports.includes("127.0.0.1:18005"));
    assert.ok(microvmRun, "the micro-VM forwards 18005 on loopback");
    const widenVm = (props: Record<string, any>) => ({ ...props, create: String(props.create).replace("127.0.0.1:18005", "0.0.0.0:18005") });
    const wideVm = resources.map((r) => (r === microvmRun ? { ...r, inputs: widenVm(r.inputs), state: widenVm(r.state) } : r));
    const vmMessages = (await analyzeRecorded(wideVm, "ci")).violations.filter((v) => v.policyName === "guest-forwards-bind-loopback").map((v) => v.message);
    assert.strictEqual(vmMessages.length, 1, vmMessages.join("\n"));
    assert.match(vmMessages[0], /^command\.local\.Command "microvm-vm-\w+" forwards host port 18005 to its QEMU guest on 0\.0\.0\.0/);
  });
});

describe("policy: the offline check on a broken program", () => {
  it("fails on a container without limits and an unpinned image, with the CLI's lines", async () => {
    const recorded = await recordUnderMocks("broken", () => {
      const image = new docker.RemoteImage("nginx", { name: "nginx" });
      const web = new docker.Container("web", { image: "nginx:latest", ports: [{ internal: 80, external: 8080, ip: "127.0.0.1" }] });
      return [image, web];
    });
    const analysis = await analyzeRecorded(recorded, "broken");
    assert.strictEqual(exitCodeOf(analysis), 1);
    const report = formatAnalysis(analysis, "optivolt-lab@v0.1.0");
    const lines = report.split("\n");
    const expected = [
      /^ {4}\[mandatory\] +container-resource-limits \(urn:pulumi:broken::optivolt::docker:index\/container:Container::web\): docker\.Container "web" has no CPU limit .* and no memory limit/,
      /^ {4}\[mandatory\] +images-pinned \(urn:pulumi:broken::optivolt::docker:index\/remoteImage:RemoteImage::nginx\): docker\.RemoteImage "nginx" pulls "nginx", which has no tag/,
      /^ {4}\[mandatory\] +images-pinned \(urn:pulumi:broken::optivolt::docker:index\/container:Container::web\): docker\.Container "web" runs "nginx:latest", whose tag `latest` floats/,
    ];
    for (const pattern of expected) assert.ok(lines.some((l) => pattern.test(l)), `no line matches ${pattern}\n${report}`);
    assert.match(report, /violation\(s\): 3 mandatory/);
  });
});

describe("policy: npm run policy:check", () => {
  it("explains a bad flag with the usage and exits 2", async () => {
    const result = await runPolicyCheck("--stack", "dev", "--stak");
    assert.strictEqual(result.status, 2);
    assert.match(result.stderr, /unknown option '--stak'/);
    assert.match(result.stderr, /npm run policy:check -- --help/);
  });

  it("requires --stack", async () => {
    const result = await runPolicyCheck();
    assert.strictEqual(result.status, 2);
    assert.match(result.stderr, /required option '-s, --stack <name>' not specified/);
  });

  it("names a missing stack file without a stack trace", async () => {
    const result = await runPolicyCheck("--stack", "nosuchstack");
    assert.strictEqual(result.status, 2);
    assert.match(result.stderr, /no stack file .*Pulumi\.nosuchstack\.yaml/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it("prints a stack file's config errors without a stack trace and exits 2 (run as the npm script runs it)", async function () {
    this.timeout(60_000);
    const stack = `ovtest-fidelity-bad-${process.pid}`;
    const file = path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8").replace("cpus: 0.5", "cpus: -1"));
    try {
      const result = spawnSync(process.execPath, ["-r", "ts-node/register", "policy/check.ts", "--stack", stack], { cwd: PROJECT_DIR, encoding: "utf8", timeout: 50_000 });
      assert.strictEqual(result.status, 2, result.stdout + result.stderr);
      assert.strictEqual(
        result.stderr,
        `Invalid OptiVolt stack config for stack "${stack}" (fix the keys below in Pulumi.${stack}.yaml, or with \`pulumi config set --path optivolt:<key> <value>\`):\n` +
          "  - optivolt:variants.minimal.cpus: Too small: expected number to be >0, got -1\n",
      );
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("refuses a pack config that names no policy of the pack", async () => {
    const file = path.join(os.tmpdir(), `ovpolicy-config-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ "memory-budget": { hostMemoryBudgetMb: 1 } }));
    try {
      const result = await runPolicyCheck("--stack", "dev", "--config", file);
      assert.strictEqual(result.status, 2);
      assert.match(result.stderr, /configures unknown policies \(memory-budget\); the pack has container-resource-limits, /);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("prints the violations and exits 0 on a clean stack", async () => {
    const result = await runPolicyCheck("--stack", "ci");
    assert.strictEqual(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /optivolt-lab@v\d+\.\d+\.\d+, stack ci, offline under mocks/);
  });
});
