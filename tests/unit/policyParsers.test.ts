import * as assert from "assert";
import { imagePin, unpinnedReason } from "../../policy/imageRef";
import { memoryMiB, parseKraftRun, parsePortSpec } from "../../policy/kraft";
import { parseForward, parseQemuStart, qemuMemoryMiB } from "../../policy/qemu";

describe("policy parsers: image references", () => {
  it("tells tags from registry ports, and digests and image IDs from tags", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    assert.deepStrictEqual(imagePin("localhost:5000/nginx"), { kind: "untagged" });
    assert.deepStrictEqual(imagePin("localhost:5000/nginx:1.27"), { kind: "tag", tag: "1.27" });
    assert.deepStrictEqual(imagePin(`prom/prometheus:v2.53.2@${digest}`), { kind: "digest" });
    assert.deepStrictEqual(imagePin(digest), { kind: "image-id" });
    assert.strictEqual(unpinnedReason("grafana/grafana:11.2.2", ["latest"]), undefined);
    assert.match(unpinnedReason("nginx:stable", ["latest", "stable"]) ?? "", /tag `stable` floats/);
  });
});

describe("policy parsers: kraft run", () => {
  it("reads memory sizes the way kraft does", () => {
    assert.strictEqual(memoryMiB("256Mi"), 256);
    assert.strictEqual(memoryMiB("1Gi"), 1024);
    assert.strictEqual(memoryMiB(String(256 * 1024 * 1024)), 256);
    assert.ok(Math.abs((memoryMiB("512M") ?? 0) - 488.28) < 0.01);
    assert.strictEqual(memoryMiB("lots"), undefined);
  });

  it("reads -M, --memory=, quoted ports and stops at the next command", () => {
    assert.deepStrictEqual(parseKraftRun("kraft run -M256Mi -p '127.0.0.1:8004:8000' . && kraft ps -p 9999:1"), { memory: "256Mi", ports: ["127.0.0.1:8004:8000"] });
    assert.deepStrictEqual(parseKraftRun("/usr/local/bin/kraft run --memory=1Gi --port 8004:8000/udp ."), { memory: "1Gi", ports: ["8004:8000/udp"] });
    assert.strictEqual(parseKraftRun("kraft build --plat qemu"), undefined);
    assert.deepStrictEqual(parsePortSpec("8004:8000/udp"), { ip: undefined, hostPort: 8004, protocol: "udp" });
    assert.deepStrictEqual(parsePortSpec("[::1]:8004:8000"), { ip: "::1", hostPort: 8004, protocol: "tcp" });
  });
});

describe("policy parsers: qemu.sh start (the source builder)", () => {
  it("reads --memory and every --forward, up to the guest's command after --", () => {
    const script = ["set -eu", "bash source/qemu.sh start --run-dir '/a b' --memory 384 --forward 127.0.0.1:8004 --forward=10.0.0.1:8005 -- /usr/bin/node --memory 9", "bash source/qemu.sh stop --run-dir /x"].join("\n");
    assert.deepStrictEqual(parseQemuStart(script), { memory: "384", ports: ["127.0.0.1:8004", "10.0.0.1:8005"] });
    assert.deepStrictEqual(parseQemuStart("/opt/u/source/qemu.sh start --forward 127.0.0.1:1 && qemu.sh start --memory 5"), { ports: ["127.0.0.1:1"] });
    assert.strictEqual(parseQemuStart("bash source/qemu.sh stop --run-dir /x"), undefined);
  });

  it("reads memory as qemu.sh does (whole MiB) and forwards as TCP ports", () => {
    assert.strictEqual(qemuMemoryMiB("384"), 384);
    assert.strictEqual(qemuMemoryMiB("384Mi"), undefined);
    assert.deepStrictEqual(parseForward("127.0.0.1:8004"), { ip: "127.0.0.1", hostPort: 8004, protocol: "tcp" });
    assert.strictEqual(parseForward("8004"), undefined);
  });
});
