// scripts/lab.sh (`npm run lab:up` / `lab:down`) run by bash on a PATH the test builds: fake
// `npm`, `docker` and `pulumi` that record how they were called, and nothing else but what the
// script itself needs.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prerequisiteChecks } from "../../scripts/doctor";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const LAB_SCRIPT = path.join(PROJECT_DIR, "scripts", "lab.sh");

/** A folder to put on PATH: the script's own tools, plus fakes that append `name args | PULUMI_BACKEND_URL` to calls.log. */
function fakeBin(fakes: readonly string[]): { dir: string; calls: () => string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-fidelity-labsh-"));
  for (const tool of ["dirname", "mkdir"]) fs.symlinkSync(spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), path.join(dir, tool));
  const log = path.join(dir, "calls.log");
  for (const fake of fakes) {
    fs.writeFileSync(path.join(dir, fake), `#!/bin/bash\necho "${fake} $* | \${PULUMI_BACKEND_URL:-}" >> ${log}\n`, { mode: 0o755 });
  }
  return { dir, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) };
}

function runLab(args: string[], binDir: string) {
  const started = Date.now();
  const env = { PATH: binDir, HOME: os.tmpdir(), PULUMI_CONFIG_PASSPHRASE: "test" };
  const result = spawnSync("/bin/bash", [LAB_SCRIPT, ...args], { env, encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout, ms: Date.now() - started };
}

const doctorFix = (name: string) => prerequisiteChecks(undefined).find((c) => c.name === name)!.fix;

describe("npm run lab:up / lab:down (scripts/lab.sh)", () => {
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const bin = (fakes: readonly string[]) => {
    const b = fakeBin(fakes);
    made.push(b.dir);
    fs.symlinkSync(process.execPath, path.join(b.dir, "node"));
    return b;
  };

  it("without the Pulumi CLI, `up` stops at once with the doctor's install hint, before `npm ci`", () => {
    const b = bin(["npm", "docker"]);
    const result = runLab(["up"], b.dir);
    assert.strictEqual(result.status, 1, result.stderr);
    assert.ok(result.ms < 5000, `took ${result.ms} ms`);
    assert.ok(result.stderr.includes("MISS  Pulumi CLI: pulumi is not on the PATH"), result.stderr);
    assert.ok(result.stderr.includes(`fix: ${doctorFix("Pulumi CLI")}`), result.stderr);
    assert.match(result.stderr, /Missing required prerequisite\(s\): Pulumi CLI\. Fix them as shown above, then run `npm run lab:up` again\./);
    assert.deepStrictEqual(b.calls(), [], "nothing ran: no npm ci, no docker");
  });

  it("without the Pulumi CLI, says in three lines what works without it, each an npm script of this repository", () => {
    const result = runLab(["up"], bin(["npm", "docker"]).dir);
    const lines = result.stderr.trimEnd().split("\n");
    const at = lines.findIndex((l) => l.startsWith("Without Pulumi, these work now"));
    assert.ok(at >= 0, result.stderr);
    const offered = lines.slice(at + 1);
    assert.strictEqual(offered.length, 3, result.stderr);
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts);
    for (const line of offered) {
      const named = [...line.matchAll(/npm run ([\w:]+)/g)].map((m) => m[1]);
      assert.ok(named.length > 0 && named.every((n) => scripts.includes(n)), `not a script of package.json: ${line}`);
    }
    assert.match(result.stderr, /QUICKSTART\.md, "No Pulumi yet\?"/);
    assert.match(fs.readFileSync(path.join(PROJECT_DIR, "QUICKSTART.md"), "utf8"), /^## .*No Pulumi yet\?/m);
  });

  it("with the Pulumi CLI present but docker missing, offers no Pulumi-free path", () => {
    const result = runLab(["up"], bin(["npm", "pulumi"]).dir);
    assert.strictEqual(result.status, 1);
    assert.doesNotMatch(result.stderr, /Without Pulumi/);
  });

  it("without the Pulumi CLI, `down` gives the same message instead of `pulumi: command not found`", () => {
    const result = runLab(["down"], bin(["npm", "docker"]).dir);
    assert.strictEqual(result.status, 1);
    assert.doesNotMatch(result.stderr, /command not found/);
    assert.ok(result.stderr.includes(`fix: ${doctorFix("Pulumi CLI")}`), result.stderr);
  });

  it("names every missing command-line tool with the doctor's fix", () => {
    const b = fakeBin([]);
    made.push(b.dir);
    const result = runLab(["up"], b.dir);
    assert.strictEqual(result.status, 1);
    for (const name of ["Node.js ≥ 20", "docker CLI", "Pulumi CLI"]) assert.ok(result.stderr.includes(`fix: ${doctorFix(name)}`), `${name}:\n${result.stderr}`);
    assert.match(result.stderr, /Missing required prerequisite\(s\): Node\.js ≥ 20, docker CLI, Pulumi CLI\./);
  });

  it("never runs `pulumi login` (the user's own backend stays): every pulumi command gets the lab's backend from PULUMI_BACKEND_URL", () => {
    const b = bin(["npm", "docker", "pulumi"]);
    const backend = `file://${PROJECT_DIR}/.pulumi-state`;
    assert.strictEqual(runLab(["up", "ci"], b.dir).status, 0);
    assert.strictEqual(runLab(["down", "ci"], b.dir).status, 0);
    assert.deepStrictEqual(b.calls(), [
      `npm ci --no-audit --no-fund | ${backend}`,
      `npm run --silent doctor -- --stack ci | ${backend}`,
      `pulumi stack select ci | ${backend}`,
      `pulumi up --yes --stack ci | ${backend}`,
      `pulumi stack output --stack ci | ${backend}`,
      `pulumi destroy --yes --stack ci | ${backend}`,
    ]);
  });

  it("refuses an unknown action with exit 2", () => {
    const result = runLab(["sideways"], bin(["npm", "docker", "pulumi"]).dir);
    assert.strictEqual(result.status, 2);
    assert.match(result.stderr, /unknown action 'sideways': use up or down/);
  });
});
