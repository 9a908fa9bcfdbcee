// Every command that reads a stack file goes through model/config/stackFile.ts: a bad stack
// name, a YAML syntax error and a value that contains itself are one line and exit 2, never a trace.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig, parseStackEntries, readStackFile, StackFileError, validStackName } from "../../model/config";
import { runPolicyCheck } from "../support/policyHarness";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Writes Pulumi.<stack>.yaml at the project root for one test (policy:check reads stacks there). */
function withStackFile(stack: string, text: string): () => void {
  const file = path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, text);
  return () => fs.rmSync(file, { force: true });
}

describe("stack files and stack names (model/config/stackFile.ts)", () => {
  it("accepts the names Pulumi allows and refuses anything a shell or a path would read", () => {
    for (const name of ["dev", "ci", "my_stack.2-b"]) assert.strictEqual(validStackName(name), name);
    for (const name of ["a;touch x", "../dev", "a b", "", "$(id)", "..", "dev\n"]) {
      assert.throws(() => validStackName(name), (error: Error) => error instanceof StackFileError && /is not valid: use letters, digits/.test(error.message), name);
    }
  });

  it("a YAML syntax error is one line with file, line and column", () => {
    const remove = withStackFile("zz-syntax", "config:\n  optivolt:bindAddress: [1,\n");
    try {
      assert.throws(
        () => readStackFile("zz-syntax"),
        (error: Error) => error instanceof StackFileError && /^\S+Pulumi\.zz-syntax\.yaml:3:1: YAML syntax error: [^\n]+$/.test(error.message),
      );
    } finally {
      remove();
    }
  });

  it("a value that contains itself through an alias is refused by name instead of crashing JSON.stringify", async () => {
    const remove = withStackFile("zz-self", "config:\n  optivolt:bindAddress: &a [*a]\n");
    try {
      assert.throws(() => loadStackConfig("zz-self"), /optivolt:bindAddress\.0 is a YAML alias to a value that contains it/);
      const result = await runPolicyCheck("--stack", "zz-self");
      assert.strictEqual(result.status, 2);
      assert.strictEqual(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    } finally {
      remove();
    }
  });

  it("policy:check exits 2 with one line per config error, and 2 on a syntax error, a bad name", async () => {
    const remove = withStackFile("zz-bad", "config:\n  optivolt:variants:\n    a: { target: standard, cpus: -1, memoryMb: 256, hostPort: 1 }\n  optivolt:bindAddress: nope\n");
    try {
      const bad = await runPolicyCheck("--stack", "zz-bad");
      assert.strictEqual(bad.status, 2);
      assert.match(bad.stderr, /\n {2}- optivolt:bindAddress: [^\n]+\n {2}- optivolt:variants\.a\.cpus: [^\n]+\n$/);
      const name = await runPolicyCheck("--stack", "x;id");
      assert.deepStrictEqual([name.status, name.stderr.trim().split("\n").length], [2, 1]);
    } finally {
      remove();
    }
  });

  it("doctor and dashboards:render exit 2 with the one line on a YAML syntax error", () => {
    const remove = withStackFile("zz-cli", "config:\n  optivolt:bindAddress: [1,\n");
    try {
      for (const script of ["scripts/doctor.ts", "dashboards/render.ts"]) {
        const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", script, "--stack", "zz-cli", ...(script.includes("render") ? ["--out", fs.mkdtempSync("/tmp/ovtest-render-")] : [])], {
          cwd: PROJECT_DIR,
          encoding: "utf8",
        });
        assert.strictEqual(run.status, 2, `${script}: ${run.stderr}`);
        assert.match(run.stderr, /^\S+Pulumi\.zz-cli\.yaml:3:1: YAML syntax error: [^\n]+\n$/, script);
      }
    } finally {
      remove();
    }
  });

  it("archives: http:// is refused, and one at a location of its own needs its sha256", () => {
    const entries = (source: unknown) => ({
      "optivolt:variants": { a: { target: "standard", cpus: 1, memoryMb: 256, hostPort: 18100 } },
      "optivolt:unikernel": { source },
    });
    assert.throws(
      () => parseStackEntries(entries({ archives: { unikraft: "http://example.org/u.tar.gz" }, sha256: { unikraft: "c".repeat(64) } }), "t"),
      /optivolt:unikernel\.source\.archives\.unikraft: must not be an http:\/\/ URL/,
    );
    assert.throws(() => parseStackEntries(entries({ archives: { unikraft: "vendor/u.tar.gz" } }), "t"), /optivolt:unikernel\.source\.sha256\.unikraft: archives\.unikraft is not the default archive/);
    const config = parseStackEntries(entries({}), "t");
    assert.doesNotMatch(config.unikernel.source.archives.lwipZip, /refs\/heads\//, "the lwIP default is a commit, not a branch");
  });

  it("the ci stack's sums are the vendored files' sums", () => {
    const { archives, sha256 } = loadStackConfig("ci").unikernel.source;
    for (const [key, location] of Object.entries(archives)) {
      const actual = spawnSync("sha256sum", [path.resolve(PROJECT_DIR, location)], { encoding: "utf8" }).stdout.split(" ")[0];
      assert.strictEqual(sha256[key as keyof typeof sha256], actual, key);
    }
  });
});
