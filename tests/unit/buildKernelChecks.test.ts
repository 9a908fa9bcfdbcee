// unikernel/source/build-kernel.sh checks every archive before it unpacks anything: a SHA-256 from the
// stack config (a mismatch stops the build), no http://, and a local archive that is not there is the
// config's to fix (exit 2, not the 1 of a failed build). Runs the real script on the ci stack's vendored archives.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackConfig } from "../../model/config";
import { kernelBuildArgv } from "../../components/unikernel/source";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");

function build(edit: (argv: string[]) => string[]) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-kernel-checks-"));
  try {
    const argv = edit(kernelBuildArgv(loadStackConfig("ci").unikernel.source, { kernelDir: out }, PROJECT_DIR));
    const run = spawnSync(argv[0], argv.slice(1), { cwd: path.join(PROJECT_DIR, "unikernel"), encoding: "utf8", timeout: 120_000 });
    return { status: run.status, stderr: run.stderr, built: fs.existsSync(path.join(out, "elfloader_qemu-x86_64")) };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

const replaceAfter = (flag: string, value: string) => (argv: string[]) => argv.map((word, i) => (argv[i - 1] === flag ? value : word));

describe("build-kernel.sh: archive checks before anything is unpacked", () => {
  it("stops on a SHA-256 that is not the stack config's, naming both sums", () => {
    const result = build(replaceAfter("--lwip-zip-sha256", "d".repeat(64)));
    assert.strictEqual(result.status, 1, result.stderr);
    assert.match(result.stderr, /UNIKRAFT-2_1_x\.zip has SHA-256 c2b3b768[0-9a-f]+, not the d{64} the stack config gives \(unikernel\.source\.sha256\); nothing was built/);
    assert.ok(!result.built);
  });

  it("refuses http:// and a missing local archive with exit 2 (the config's to fix)", () => {
    const http = build(replaceAfter("--unikraft", "http://example.org/unikraft.tar.gz"));
    assert.deepStrictEqual([http.status, http.built], [2, false]);
    assert.match(http.stderr, /http:\/\/example\.org\/unikraft\.tar\.gz is an http:\/\/ URL/);
    const missing = build(replaceAfter("--unikraft", "/nonexistent/unikraft.tar.gz"));
    assert.deepStrictEqual([missing.status, missing.built], [2, false]);
    assert.match(missing.stderr, /archive \/nonexistent\/unikraft\.tar\.gz does not exist; fix unikernel\.source\.archives/);
  });

  it("refuses to build without a sum for every archive", () => {
    const result = build((argv) => argv.filter((word, i) => word !== "--lib-libelf-sha256" && argv[i - 1] !== "--lib-libelf-sha256"));
    assert.strictEqual(result.status, 2);
    assert.match(result.stderr, /--lib-libelf-sha256 is required/);
  });
});
