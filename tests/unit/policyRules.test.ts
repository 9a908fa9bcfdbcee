import * as assert from "assert";
import {
  containerResourceLimits,
  grafanaPasswordNotLiteral,
  memoryWithinHostBudget,
  noUnexemptedPrivileged,
  pinnedImages,
  portsBindLoopback,
  PRIVILEGED_EXEMPTION_LABEL,
  swapWithinMemory,
  uniqueHostPorts,
  unikernelMemorySet,
} from "../../policy/policies";
import { container, resource, runPolicy, UNKNOWN_AT_PREVIEW } from "../support/policyHarness";

const limited = { cpus: "1", memory: 256, image: "optivolt-webapi:standard" };
const loopback = (external: number) => ({ internal: 8000, external, ip: "127.0.0.1", protocol: "tcp" });
const kraft = (name: string, create: string) => resource("command:local:Command", name, { create });
const password = (name: string, result: string) => resource("random:index/randomPassword:RandomPassword", name, { length: 24 }, { outputs: { length: 24, result } });

describe("policy: container-resource-limits", () => {
  it("passes a container with a CPU and a memory limit", async () => {
    const outcome = await runPolicy(containerResourceLimits, [container("standard", limited)]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails a container without limits, naming it and the fix", async () => {
    const outcome = await runPolicy(containerResourceLimits, [container("standard", { image: "x:1", cpus: "0", memory: 0 })]);
    assert.strictEqual(outcome.violations.length, 1);
    assert.strictEqual(outcome.violations[0].enforcementLevel, "mandatory");
    assert.match(outcome.messages[0], /docker\.Container "standard" has no CPU limit \(set `cpus`.*and no memory limit \(set `memory`/);
  });

  it("ignores other resource types as the SDK does (not applicable)", async () => {
    const outcome = await runPolicy(containerResourceLimits, [resource("docker:index/network:Network", "lab", {})]);
    assert.deepStrictEqual(outcome.violations, []);
    assert.strictEqual(outcome.notApplicable.length, 1);
  });
});

describe("policy: container-swap-within-memory", () => {
  it("passes no swap and Docker's default (swap equal to memory)", async () => {
    const outcome = await runPolicy(swapWithinMemory, [container("a", { ...limited, memorySwap: 256 }), container("b", limited)]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails unlimited swap, as an advisory", async () => {
    const outcome = await runPolicy(swapWithinMemory, [container("a", { ...limited, memorySwap: -1 })]);
    assert.strictEqual(outcome.violations[0].enforcementLevel, "advisory");
    assert.match(outcome.messages[0], /"a" allows unlimited swap .*set `memorySwap` to 256 \(no swap\) or at most 512/);
  });

  it("reads maxSwapRatio from the pack config", async () => {
    const outcome = await runPolicy(swapWithinMemory, [container("a", limited)], { config: { maxSwapRatio: 0 } });
    assert.match(outcome.messages[0], /leaves memorySwap unset, so Docker grants 256 MB of swap/);
  });

  it("is not applicable without a memory limit", async () => {
    const outcome = await runPolicy(swapWithinMemory, [container("a", { cpus: "1" })]);
    assert.deepStrictEqual(outcome.violations, []);
    assert.match(outcome.notApplicable[0], /no memory limit/);
  });
});

describe("policy: no-privileged-without-exemption", () => {
  const labels = (value: string) => [{ label: PRIVILEGED_EXEMPTION_LABEL, value }];

  it("passes a privileged container with a reason in the exemption label", async () => {
    const outcome = await runPolicy(noUnexemptedPrivileged, [container("cadvisor", { ...limited, privileged: true, labels: labels("reads host cgroups") })]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails a privileged container without the label, and one with an empty reason", async () => {
    const outcome = await runPolicy(noUnexemptedPrivileged, [
      container("a", { ...limited, privileged: true }),
      container("b", { ...limited, privileged: true, labels: labels("  ") }),
    ]);
    assert.strictEqual(outcome.violations.length, 2);
    assert.match(outcome.messages[0], /"a" is privileged and has no exemption label; drop `privileged` or add the label \{ label: "optivolt\.policy\/privileged-exemption"/);
  });
});

describe("policy: images-pinned", () => {
  it("passes version tags, digests and image IDs", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const outcome = await runPolicy(pinnedImages, [
      resource("docker:index/remoteImage:RemoteImage", "grafana", { name: "grafana/grafana:11.2.2" }),
      resource("docker:index/remoteImage:RemoteImage", "prom", { name: `localhost:5000/prom/prometheus@${digest}` }),
      container("c", { ...limited, image: digest }),
      container("d", { ...limited, image: UNKNOWN_AT_PREVIEW }),
    ]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails latest and untagged references, on images and containers", async () => {
    const outcome = await runPolicy(pinnedImages, [
      resource("docker:index/remoteImage:RemoteImage", "grafana", { name: "grafana/grafana:latest" }),
      container("c", { ...limited, image: "localhost:5000/nginx" }),
    ]);
    assert.deepStrictEqual(outcome.messages, [
      'docker.RemoteImage "grafana" pulls "grafana/grafana:latest", whose tag `latest` floats; pin it to a version tag (grafana/grafana:11.2.2) or a digest (name@sha256:...) in the stack config.',
      'docker.Container "c" runs "localhost:5000/nginx", which has no tag, so Docker pulls `latest`; pin it to a version tag (grafana/grafana:11.2.2) or a digest (name@sha256:...) in the stack config.',
    ]);
  });
});

describe("policy: ports-bind-loopback", () => {
  it("passes loopback ports", async () => {
    const outcome = await runPolicy(portsBindLoopback, [container("a", { ...limited, ports: [loopback(8001)] })]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails Docker's default 0.0.0.0 unless the pack config allows the address", async () => {
    const wide = container("a", { ...limited, ports: [{ internal: 8000, external: 8001 }] });
    const failed = await runPolicy(portsBindLoopback, [wide]);
    assert.match(failed.messages[0], /"a" publishes host port 8001 on 0\.0\.0\.0 \(Docker's default\); set the port's `ip` to 127\.0\.0\.1/);
    const allowed = await runPolicy(portsBindLoopback, [wide], { config: { allowedBindAddresses: ["0.0.0.0"] } });
    assert.deepStrictEqual(allowed.violations, []);
  });
});

describe("policy: unikernel-memory-set", () => {
  it("passes kraft run with -M or --memory=", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [
      kraft("uk", "kraft run --plat qemu -M 512Mi -p 127.0.0.1:8004:8000 ."),
      kraft("uk2", "cd unikernel && kraft run --memory=1Gi ."),
    ]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("reads only the kraft run line of a script (flags on later lines do not count)", async () => {
    const script = (memory: string) =>
      ["set -eu", `kraft run --detach --name 'uk' --plat qemu --arch x86_64 ${memory} --port '127.0.0.1:8004:8000' .`, "if ! node wait.ts; then", "  kraft logs uk | tail -n 40 -M 1Gi", "fi"].join("\n");
    const outcome = await runPolicy(unikernelMemorySet, [kraft("ok", script("--memory 320Mi")), kraft("bad", script(""))]);
    assert.deepStrictEqual(outcome.violations.map((v) => v.urn), ["urn:pulumi:test::optivolt::command:local:Command::bad"]);
  });

  it("fails kraft run without memory", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [kraft("uk", "kraft run --plat qemu -p 8004:8000 .")]);
    assert.match(outcome.messages[0], /command\.local\.Command "uk" runs `kraft run` without -M\/--memory; pass `-M/);
  });

  it("is not applicable to other commands", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [kraft("build", "kraft build --plat qemu")]);
    assert.deepStrictEqual([outcome.violations, outcome.notApplicable], [[], ["the command does not run kraft"]]);
  });
});

describe("policy: grafana-admin-password-not-literal", () => {
  const grafana = (envs: unknown[], extra = {}) => container("grafana", { ...limited, image: `sha256:${"b".repeat(64)}`, envs }, extra);

  it("passes a password that is a RandomPassword's result (known after up) or unknown (preview)", async () => {
    const known = await runPolicy(grafanaPasswordNotLiteral, [password("pw", "s3cr3t-generated"), grafana(["GF_SECURITY_ADMIN_USER=admin", "GF_SECURITY_ADMIN_PASSWORD=s3cr3t-generated"])]);
    const preview = await runPolicy(grafanaPasswordNotLiteral, [grafana(["GF_SECURITY_ADMIN_USER=admin", UNKNOWN_AT_PREVIEW])]);
    assert.deepStrictEqual([known.violations, preview.violations], [[], []]);
  });

  it("passes a password whose envs depend on a RandomPassword (engine property dependencies)", async () => {
    const pw = password("pw", "other");
    const outcome = await runPolicy(grafanaPasswordNotLiteral, [pw, grafana(["GF_SECURITY_ADMIN_PASSWORD=resolved"], { propertyDependencies: { envs: [pw.urn] } })]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails a literal (even one a secret() wraps, which policies see as plain text) and a missing password", async () => {
    const literal = await runPolicy(grafanaPasswordNotLiteral, [password("pw", "generated"), grafana(["GF_SECURITY_ADMIN_PASSWORD=hunter2"])]);
    assert.match(literal.messages[0], /docker\.Container "grafana" sets GF_SECURITY_ADMIN_PASSWORD to a literal written in the program; generate it with random\.RandomPassword/);
    assert.strictEqual(literal.violations[0].urn, "urn:pulumi:test::optivolt::docker:index/container:Container::grafana");
    const missing = await runPolicy(grafanaPasswordNotLiteral, [grafana(["GF_SERVER_ROOT_URL=http://127.0.0.1:3000"])]);
    assert.match(missing.messages[0], /runs Grafana without GF_SECURITY_ADMIN_PASSWORD, so the admin password is the literal "admin"/);
  });
});

describe("policy: unique-host-ports", () => {
  it("passes distinct ports", async () => {
    const outcome = await runPolicy(uniqueHostPorts, [
      container("a", { ...limited, ports: [loopback(8001)] }),
      container("b", { ...limited, ports: [loopback(8002)] }),
      kraft("uk", "kraft run -M 256Mi -p 127.0.0.1:8004:8000 ."),
    ]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails a second resource on the same host port, container or unikernel", async () => {
    const outcome = await runPolicy(uniqueHostPorts, [
      container("a", { ...limited, ports: [loopback(8001)] }),
      container("b", { ...limited, ports: [{ internal: 8000, external: 8001 }] }),
      kraft("uk", "kraft run -M 256Mi -p 8001:8000 ."),
    ]);
    assert.deepStrictEqual(outcome.messages, [
      'docker.Container "b" publishes host port 8001/tcp, already published by docker.Container "a"; give each service its own port in the stack config.',
      'command.local.Command "uk" publishes host port 8001/tcp, already published by docker.Container "a"; give each service its own port in the stack config.',
    ]);
    assert.strictEqual(outcome.violations[1].urn, "urn:pulumi:test::optivolt::command:local:Command::uk");
  });
});

describe("policy: memory-within-host-budget", () => {
  const lab = [container("a", { ...limited, memory: 512 }), container("b", { ...limited, memory: 256 }), kraft("uk", "kraft run -M 256Mi .")];

  it("passes limits within the budget", async () => {
    const outcome = await runPolicy(memoryWithinHostBudget, lab, { config: { hostMemoryBudgetMb: 1024 } });
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails, as an advisory on the stack, when the limits add up to more", async () => {
    const outcome = await runPolicy(memoryWithinHostBudget, lab, { config: { hostMemoryBudgetMb: 1000 } });
    assert.strictEqual(outcome.violations[0].enforcementLevel, "advisory");
    assert.strictEqual(outcome.violations[0].urn, undefined);
    assert.match(outcome.messages[0], /add up to 1024 MB, over the host budget of 1000 MB \(docker\.Container "a" 512 MB, .*command\.local\.Command "uk" 256 MB\)/);
  });
});
