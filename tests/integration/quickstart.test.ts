/**
 * QUICKSTART.md's "No Pulumi yet?" path, run for real as written: its bash blocks, copy-pasted into
 * bash from the repository root (after `npm ci` and `npm run images:base`), build the image, start
 * the container, bench it to a report and remove the container. No Pulumi CLI is involved.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseResults } from "../../bench/schema";
import { docker, removeContainer, requireDockerEngine } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const quickstart = fs.readFileSync(path.join(ROOT, "QUICKSTART.md"), "utf8");

/** The bash blocks of the section whose heading says "No Pulumi yet?". */
function noPulumiBlocks(): string[] {
  const start = quickstart.search(/^## .*No Pulumi yet\?/m);
  assert.ok(start >= 0, "QUICKSTART.md has no \"No Pulumi yet?\" section");
  const rest = quickstart.slice(start);
  const end = rest.slice(3).search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end + 3);
  return [...section.matchAll(/```bash\n([^]*?)```/g)].map((m) => m[1]);
}

describe("QUICKSTART.md, no Pulumi yet: the blocks as written, to a report", function () {
  this.timeout(900_000);
  const blocks = noPulumiBlocks();
  const script = blocks.join("\n");
  const container = /--name (\S+)/.exec(script)?.[1];
  const image = /-t (\S+)/.exec(script)?.[1];
  const out = /--out (\S+)/.exec(script)?.[1];

  before(async () => {
    await requireDockerEngine();
    assert.ok(container && image && out, `the blocks name a container, an image and an --out folder:\n${script}`);
    await removeContainer(container);
    fs.rmSync(path.join(ROOT, out), { recursive: true, force: true });
  });

  after(async () => {
    if (container) await removeContainer(container);
    if (out) fs.rmSync(path.join(ROOT, out), { recursive: true, force: true });
    if (image) await docker(["rmi", "-f", image]).catch(() => undefined);
  });

  it("builds, runs, benches to report.md and charts, and removes the container", async () => {
    // No pulumi on the PATH for the blocks, whatever the test machine has.
    const pathWithoutPulumi = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !fs.existsSync(path.join(dir, "pulumi"))).join(path.delimiter);
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: pathWithoutPulumi }, timeout: 840_000 });
    assert.strictEqual(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const dir = path.join(ROOT, out as string);
    const results = parseResults(JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")));
    const [variant] = results.variants;
    assert.strictEqual(variant.status, "measured");
    assert.deepStrictEqual(variant.runs.map((r) => r.endpoint), results.settings.endpoints);
    assert.ok(variant.runs.every((r) => r.responses > 0));
    assert.match(fs.readFileSync(path.join(dir, "report.md"), "utf8"), /^# OptiVolt web API — benchmark report/);
    assert.ok(fs.existsSync(path.join(dir, "charts", "throughput.svg")));
    const left = await docker(["ps", "-aq", "--filter", `name=^${container}$`]);
    assert.strictEqual(left.stdout.trim(), "", "the last block removed the container");
  });
});
