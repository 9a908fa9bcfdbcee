// scripts/swarm-lab.sh (`npm run swarm:lab`) against a fake `docker` first on the PATH: what the
// script writes outside the lab when the engine refuses something.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "swarm-lab.sh");

describe("npm run swarm:lab (scripts/swarm-lab.sh)", () => {
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const tempDir = (what: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ovtest-swarmlab-${what}-`));
    made.push(dir);
    return dir;
  };

  it("keeps the engine's refusal in a file of its own (mktemp), never a predictable /tmp name another user could plant", () => {
    const lab = `ovtest-swarmlab-${process.pid}`;
    const bin = tempDir("bin");
    // The engine answers, has the images, has no lab network, and refuses to create one.
    fs.writeFileSync(
      path.join(bin, "docker"),
      '#!/bin/bash\ncase "$1 $2" in\n  "network inspect") exit 1 ;;\n  "network create") echo "Pool overlaps with other one on this address space" >&2; exit 1 ;;\nesac\nexit 0\n',
      { mode: 0o755 },
    );
    // A link another local user could leave where the script used to write as root.
    const victim = path.join(tempDir("victim"), "passwd");
    fs.writeFileSync(victim, "root:x:0:0\n");
    const planted = path.join("/tmp", `${lab}-network.err`);
    fs.rmSync(planted, { force: true });
    fs.symlinkSync(victim, planted);
    const tmp = tempDir("tmpdir");
    try {
      const result = spawnSync("bash", [SCRIPT, "up"], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWARM_LAB_NAME: lab, TMPDIR: tmp }, encoding: "utf8", timeout: 30_000 });
      assert.strictEqual(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot create network ${lab} on 10\\.87\\.0\\.0/24: Pool overlaps with other one on this address space; choose a free /24 with SWARM_LAB_SUBNET\\.`));
      assert.strictEqual(fs.readFileSync(victim, "utf8"), "root:x:0:0\n", "the planted link's target is untouched");
      assert.deepStrictEqual(fs.readdirSync(tmp), [], "the temporary file is removed");
    } finally {
      fs.rmSync(planted, { force: true });
    }
  });
});
