// The pack as the Pulumi CLI runs it: `pulumi-analyzer-policy` starts @pulumi/pulumi's
// run-policy-pack in the pack's directory, which type-checks and loads policy/index.ts (whose
// PolicyPack constructor starts the analyzer's gRPC server and prints its port). The test drives
// that server with properties in the engine's wire format; the same resources then go through the
// offline engine, which must report exactly the same thing. Loading takes ~25 s (the type check).
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { analyze, AnalyzedResource } from "../../policy/offline/engine";
import { asPolicyValue } from "../../policy/offline/fromMocks";
import { policies } from "../../policy/policies";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const urn = (type: string, name: string) => `urn:pulumi:ci::optivolt::${type}::${name}`;

/** Resources exactly as the engine marshals them for the analyzer (secrets signed, unknowns as sentinels). */
const WIRE: AnalyzedResource[] = [
  { type: "random:index/randomPassword:RandomPassword", name: "pw", urn: urn("random:index/randomPassword:RandomPassword", "pw"), props: { length: 24, result: secret("generated-pw") } },
  {
    type: "docker:index/container:Container",
    name: "grafana",
    urn: urn("docker:index/container:Container", "grafana"),
    props: { image: unknownValue, cpus: "0.5", memory: 256, envs: secret(["GF_SECURITY_ADMIN_USER=admin", "GF_SECURITY_ADMIN_PASSWORD=generated-pw"]), ports: [{ internal: 3000, external: 3000, ip: "127.0.0.1" }] },
  },
  {
    type: "docker:index/container:Container",
    name: "grafana-literal",
    urn: urn("docker:index/container:Container", "grafana-literal"),
    props: { image: "grafana/grafana:latest", privileged: true, envs: secret(["GF_SECURITY_ADMIN_PASSWORD=hunter2"]), ports: [{ internal: 3000, external: 3000 }] },
  },
  { type: "command:local:Command", name: "uk", urn: urn("command:local:Command", "uk"), props: { create: "kraft run --plat qemu -p 127.0.0.1:8004:8000 ." } },
  { type: "command:local:Command", name: "uk-later", urn: urn("command:local:Command", "uk-later"), props: { create: unknownValue } },
];

type Diagnostic = { policyName: string; enforcementLevel: string; urn: string; text: string };

function startPack(): Promise<{ child: ChildProcess; port: number }> {
  const runPolicyPack = path.dirname(require.resolve("@pulumi/pulumi/cmd/run-policy-pack"));
  // Arguments as the CLI passes them: the engine address (unused by the pack) and the pack directory.
  const child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:0", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const deadline = setTimeout(() => reject(new Error(`the policy pack did not print its port within 100 s:\n${stderr}`)), 100_000);
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    child.stdout?.once("data", (chunk: Buffer) => {
      clearTimeout(deadline);
      resolve({ child, port: Number(chunk.toString().trim()) });
    });
    child.once("exit", (code) => reject(new Error(`the policy pack exited with ${code}:\n${stderr}`)));
  });
}

function call<Req, Res>(method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => method(req, (err, res) => (err ? reject(err) : resolve(res))));
}

function fromWire(d: analyzerProto.AnalyzeDiagnostic, fallbackUrn: string): Diagnostic {
  const level = d.getEnforcementlevel() === analyzerProto.EnforcementLevel.MANDATORY ? "mandatory" : "advisory";
  return { policyName: d.getPolicyname(), enforcementLevel: level, urn: d.getUrn() || fallbackUrn, text: d.getMessage() };
}

/** AnalyzeRequest and AnalyzerResource carry a resource in the same five fields. */
interface ResourceMessage {
  setType(value: string): unknown;
  setName(value: string): unknown;
  setUrn(value: string): unknown;
  setProperties(value: Struct): unknown;
  setOptions(value: analyzerProto.AnalyzerResourceOptions): unknown;
}

function describeResource<M extends ResourceMessage>(message: M, r: AnalyzedResource): M {
  message.setType(r.type);
  message.setName(r.name);
  message.setUrn(r.urn);
  message.setProperties(Struct.fromJavaScript(r.props as Record<string, never>));
  message.setOptions(new analyzerProto.AnalyzerResourceOptions());
  return message;
}

const byKey = (a: Diagnostic, b: Diagnostic) => `${a.policyName}${a.urn}${a.text}`.localeCompare(`${b.policyName}${b.urn}${b.text}`);

describe("policy: the pack served over gRPC, as the Pulumi CLI runs it", function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let client: analyzerRpc.AnalyzerClient;

  before(async () => {
    const pack = await startPack();
    child = pack.child;
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  it("advertises every policy with its level and config schema", async () => {
    const info = await call<Empty, analyzerProto.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    const names = info.getPoliciesList().map((p) => p.getName());
    assert.deepStrictEqual(names, policies.map((p) => p.name));
    assert.strictEqual(info.getName(), "optivolt-lab");
    const budget = info.getPoliciesList().find((p) => p.getName() === "memory-within-host-budget");
    assert.deepStrictEqual(budget?.getConfigschema()?.getProperties()?.toJavaScript().hostMemoryBudgetMb, {
      type: "number", exclusiveMinimum: 0, default: 4096, description: "Memory the lab may reserve on its host, in MB.",
    });
  });

  it("reports what the offline engine reports, for the same wire-format resources", async () => {
    const served: Diagnostic[] = [];
    for (const r of WIRE) {
      const req = describeResource(new analyzerProto.AnalyzeRequest(), r);
      const res = await call<analyzerProto.AnalyzeRequest, analyzerProto.AnalyzeResponse>(client.analyze.bind(client), req);
      served.push(...res.getDiagnosticsList().map((d) => fromWire(d, r.urn)));
    }
    const stackReq = new analyzerProto.AnalyzeStackRequest();
    stackReq.setResourcesList(WIRE.map((r) => describeResource(new analyzerProto.AnalyzerResource(), r)));
    const stackRes = await call<analyzerProto.AnalyzeStackRequest, analyzerProto.AnalyzeResponse>(client.analyzeStack.bind(client), stackReq);
    served.push(...stackRes.getDiagnosticsList().map((d) => fromWire(d, "")));

    const offline = await analyze(policies, WIRE.map((r) => ({ ...r, props: asPolicyValue(r.props) as Record<string, unknown> })));
    const expected = offline.violations.map((v) => ({
      policyName: v.policyName,
      enforcementLevel: v.enforcementLevel,
      urn: v.urn ?? "",
      // The SDK prefixes a violation with its policy's description; an unknown-value advisory it writes whole.
      text: v.message.startsWith("can't run policy") ? v.message : `${v.description}\n${v.message}`,
    }));
    assert.ok(served.length >= 6, `expected several violations, got ${JSON.stringify(served, null, 2)}`);
    assert.deepStrictEqual(served.sort(byKey), expected.sort(byKey));
  });
});
