import { parseStackEntries } from "../../model/config";
import { PRIVILEGED_EXEMPTION_LABEL } from "../../model/labels";
import * as assert from "assert";
import {
  containerResourceLimits,
  grafanaPasswordNotLiteral,
  memoryWithinHostBudget,
  noUnexemptedPrivileged,
  pinnedImages,
  portsBindLoopback,
  swapWithinMemory,
  uniqueHostPorts,
  unikernelMemorySet,
} from "../../policy/policies";
import { container, resource, runPolicy, service, UNKNOWN_AT_PREVIEW } from "../support/policyHarness";

const limited = { cpus: "1", memory: 256, image: "optivolt-webapi:standard" };
const loopback = (external: number) => ({ internal: 8000, external, ip: "127.0.0.1", protocol: "tcp" });
const kraft = (name: string, create: string) => resource("command:local:Command", name, { create });
/** The source builder's run step, as components/unikernel/source.ts writes it (`--` then the guest's command). */
const qemuStart = (name: string, memory: string) =>
  kraft(name, `bash source/qemu.sh start --run-dir /r --kernel /k --initrd /i ${memory} --accel auto --forward 127.0.0.1:8004 -- /usr/bin/node /app/dist/server.js`);
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
    assert.strictEqual(outcome.notApplicable.length, 2, "one per validator: docker.Container and docker.Service");
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

describe("policy: images-pinned on build bases", () => {
  const built = (name: string, buildArgs: Record<string, string>) =>
    resource("docker:index/image:Image", name, { imageName: `optivolt-webapi:${name}`, build: { context: "images", args: buildArgs } });

  it("passes pinned bases and ignores build arguments that name no image", async () => {
    const outcome = await runPolicy(pinnedImages, [built("a", { NODE_IMAGE: "node:22-bookworm-slim", BUN_IMAGE: "optivolt/bun:1-bookworm", OPTIVOLT_STACK: "dev" })]);
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails an untagged or latest base in a *_IMAGE build argument", async () => {
    const outcome = await runPolicy(pinnedImages, [built("b", { NODE_IMAGE: "node", BUN_IMAGE: "oven/bun:latest" })]);
    assert.deepStrictEqual(outcome.messages, [
      'docker.Image "b" builds on "node", which has no tag, so Docker pulls `latest` (build argument NODE_IMAGE); pin it to a version tag (grafana/grafana:11.2.2) or a digest (name@sha256:...) in the stack config.',
      'docker.Image "b" builds on "oven/bun:latest", whose tag `latest` floats (build argument BUN_IMAGE); pin it to a version tag (grafana/grafana:11.2.2) or a digest (name@sha256:...) in the stack config.',
    ]);
  });

  it("the stack config refuses the same bases before any resource exists", () => {
    const entries = (images: Record<string, string>) => ({
      "optivolt:variants": { a: { target: "standard", cpus: 1, memoryMb: 256, hostPort: 18100 } },
      "optivolt:images": images,
    });
    assert.throws(() => parseStackEntries(entries({ nodeImage: "node" }), "t"), /optivolt:images\.nodeImage: must be pinned to a version tag or digest/);
    assert.throws(() => parseStackEntries(entries({ bunImage: "oven/bun:latest" }), "t"), /optivolt:images\.bunImage: must not use the `latest` tag/);
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

  it("passes the source builder's qemu.sh start with --memory", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [qemuStart("uk", "--memory 384")]);
    assert.deepStrictEqual([outcome.violations, outcome.notApplicable], [[], []]);
  });

  it("fails qemu.sh start without memory, or with none, naming the value, the bound and the fix", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [qemuStart("missing", ""), qemuStart("zero", "--memory 0"), qemuStart("unit", "--memory 384Mi")]);
    const fix = "pass `--memory <optivolt:unikernel.memoryMi>` (whole MiB) so the unikernel runs under the budget the stack config states.";
    assert.deepStrictEqual(outcome.messages, [
      `command.local.Command "missing" runs \`qemu.sh start\` without --memory; ${fix}`,
      `command.local.Command "zero" runs \`qemu.sh start\` with memory "0", which is not a size above 0 MiB; ${fix}`,
      `command.local.Command "unit" runs \`qemu.sh start\` with memory "384Mi", which is not a size above 0 MiB; ${fix}`,
    ]);
  });

  it("is not applicable to other commands", async () => {
    const outcome = await runPolicy(unikernelMemorySet, [kraft("build", "kraft build --plat qemu")]);
    assert.deepStrictEqual([outcome.violations, outcome.notApplicable], [[], ["the command runs no unikernel (kraft run or qemu.sh start)"]]);
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
      kraft("qemu", "bash source/qemu.sh start --memory 256 --forward 127.0.0.1:8001 --forward 127.0.0.1:8005 -- node"),
    ]);
    assert.deepStrictEqual(outcome.messages, [
      'docker.Container "b" publishes host port 8001/tcp, already published by docker.Container "a"; give each service its own port in the stack config.',
      'command.local.Command "uk" publishes host port 8001/tcp, already published by docker.Container "a"; give each service its own port in the stack config.',
      'command.local.Command "qemu" publishes host port 8001/tcp, already published by docker.Container "a"; give each service its own port in the stack config.',
    ]);
    assert.strictEqual(outcome.violations[1].urn, "urn:pulumi:test::optivolt::command:local:Command::uk");
  });
});

describe("policy: memory-within-host-budget", () => {
  const lab = [container("a", { ...limited, memory: 512 }), container("b", { ...limited, memory: 128 }), kraft("uk", "kraft run -M 256Mi ."), qemuStart("qemu", "--memory 128")];

  it("passes limits within the budget", async () => {
    const outcome = await runPolicy(memoryWithinHostBudget, lab, { config: { hostMemoryBudgetMb: 1024 } });
    assert.deepStrictEqual(outcome.violations, []);
  });

  it("fails, as an advisory on the stack, when the limits add up to more", async () => {
    const outcome = await runPolicy(memoryWithinHostBudget, lab, { config: { hostMemoryBudgetMb: 1000 } });
    assert.strictEqual(outcome.violations[0].enforcementLevel, "advisory");
    assert.strictEqual(outcome.violations[0].urn, undefined);
    assert.match(outcome.messages[0], /add up to 1024 MB, over the host budget of 1000 MB \(docker\.Container "a" 512 MB, command\.local\.Command "uk" 256 MB, .*command\.local\.Command "qemu" 128 MB\)/);
  });
});

describe("policy: docker.Service (Swarm) is covered like docker.Container", () => {
  const budget = { nanoCpus: 500_000_000, memoryBytes: 128 * 1024 * 1024 };
  const digest = `10.87.0.2:5000/optivolt-webapi@sha256:${"b".repeat(64)}`;
  const task = (containerSpec: Record<string, unknown> = {}, resources: Record<string, unknown> = { limits: budget, reservation: budget }) => ({
    taskSpec: { containerSpec: { image: digest, ...containerSpec }, resources },
  });
  const hostPort = (publishedPort: number) => ({ endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 8000, publishedPort, publishMode: "host", protocol: "tcp" }] } });
  const exemption = (label: string, value: string) => ({ labels: [{ label, value }] });
  const PUBLISHED = "optivolt.policy/published-ports-exemption";

  it("container-resource-limits: passes nanoCpus and memoryBytes, fails a task without them", async () => {
    assert.deepStrictEqual((await runPolicy(containerResourceLimits, [service("minimal", task())])).violations, []);
    const outcome = await runPolicy(containerResourceLimits, [service("minimal", task({}, { reservation: budget }))]);
    assert.deepStrictEqual(outcome.messages.length, 1);
    assert.match(outcome.messages[0], /^docker\.Service "minimal" has no CPU limit \(set `taskSpec\.resources\.limits\.nanoCpus`.*and no memory limit \(set `taskSpec\.resources\.limits\.memoryBytes`\)/);
  });

  it("images-pinned: passes a registry digest, a version tag and an image unknown at preview; fails latest and untagged", async () => {
    const passing = await runPolicy(pinnedImages, [
      service("a", task()),
      service("b", task({ image: "optivolt/registry:2.8" })),
      service("c", task({ image: UNKNOWN_AT_PREVIEW })),
    ]);
    assert.deepStrictEqual(passing.violations, []);
    const failing = await runPolicy(pinnedImages, [service("d", task({ image: "prom/prometheus:latest" })), service("e", task({ image: "10.87.0.2:5000/webapi" }))]);
    assert.deepStrictEqual(failing.messages.length, 2);
    assert.match(failing.messages[0], /^docker\.Service "d" runs "prom\/prometheus:latest", whose tag `latest` floats/);
    assert.match(failing.messages[1], /^docker\.Service "e" runs "10\.87\.0\.2:5000\/webapi", which has no tag/);
  });

  it("ports-bind-loopback: a service publishing on its nodes needs a stated reason (or the pack's 0.0.0.0); publishing nothing passes", async () => {
    const bare = service("standard", { ...task(), ...hostPort(28001) });
    const failed = await runPolicy(portsBindLoopback, [bare]);
    assert.match(failed.messages[0], /^docker\.Service "standard" publishes port 28001 \(host mode\) on every address of its nodes \(Swarm has no bind address\) without saying why; set optivolt:swarm\.publishedPortsReason/);
    const reasoned = service("standard", { ...task(), ...hostPort(28001), ...exemption(PUBLISHED, "nodes on a private network of this host") });
    assert.deepStrictEqual((await runPolicy(portsBindLoopback, [reasoned])).violations, []);
    assert.deepStrictEqual((await runPolicy(portsBindLoopback, [service("x", { ...task(), ...hostPort(1), ...exemption(PUBLISHED, "ok") })])).messages.length, 1, "a reason of a word is no reason");
    assert.deepStrictEqual((await runPolicy(portsBindLoopback, [bare], { config: { allowedBindAddresses: ["0.0.0.0"] } })).violations, []);
    assert.deepStrictEqual((await runPolicy(portsBindLoopback, [service("quiet", { ...task(), endpointSpec: { mode: "dnsrr" } })])).violations, []);
  });

  it("no-privileged-without-exemption: the Docker socket or added capabilities need the exemption label", async () => {
    const socket = { mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }] };
    const failed = await runPolicy(noUnexemptedPrivileged, [service("prometheus", task(socket)), service("tool", task({ capAdds: ["SYS_ADMIN"] }))]);
    assert.deepStrictEqual(failed.messages.length, 2);
    assert.match(failed.messages[0], /^docker\.Service "prometheus" mounts the Docker socket \(\/var\/run\/docker\.sock\), which gives its tasks the host, without a reason/);
    assert.match(failed.messages[1], /^docker\.Service "tool" adds capabilities \(SYS_ADMIN\)/);
    const exempt = service("prometheus", { ...task(socket), ...exemption(PRIVILEGED_EXEMPTION_LABEL, "reads the swarm's tasks from the socket") });
    assert.deepStrictEqual((await runPolicy(noUnexemptedPrivileged, [exempt, service("plain", task())])).violations, []);
  });

  it("unique-host-ports and memory-within-host-budget count a service's published ports and memory × replicas", async () => {
    const clash = await runPolicy(uniqueHostPorts, [container("c", { ...limited, ports: [loopback(28001)] }), service("s", { ...task(), ...hostPort(28001) })]);
    assert.match(clash.messages[0], /^docker\.Service "s" publishes host port 28001\/tcp, already published by docker\.Container "c"/);
    const big = { limits: { nanoCpus: 1e9, memoryBytes: 1024 * 1024 * 1024 }, reservation: {} };
    const over = await runPolicy(memoryWithinHostBudget, [service("s", { ...task({}, big), mode: { replicated: { replicas: 5 } } })]);
    assert.match(over.messages[0], /^Memory limits add up to 5120 MB, over the host budget of 4096 MB \(docker\.Service "s" 5120 MB\)/);
  });
});
