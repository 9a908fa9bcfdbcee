/**
 * `npm run bench -- --target name=URL` against a server that is not a container (a Node process on
 * the host): the default path cannot join a namespace, so it measures on the host network, directly,
 * and names that path in the plan and the report.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseResults } from "../../bench/schema";
import { freeLoopbackPort, requireDockerEngine } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");

describe("bench: a --target that is a process on the host, not a container", function () {
  let server: http.Server;
  let url: string;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-bench-host-"));

  before(async function () {
    await requireDockerEngine();
    const port = await freeLoopbackPort();
    server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("measures it on the host network, directly, and says so in the plan and the report", async function () {
    const cli = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "bench/cli/cli.ts", "--target", `host=${url}`, "--endpoints", "/", "--duration", "2", "--warmup", "0", "--out", out], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    cli.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    cli.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => cli.on("close", resolve));
    assert.strictEqual(code, 0, `${stdout}\n${stderr}`);
    const results = parseResults(JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8")));
    const variant = results.variants.find((v) => v.name === "host");
    assert.ok(variant);
    assert.strictEqual(variant.status, "measured", variant.detail ?? "");
    assert.ok(variant.runs.length > 0 && variant.runs.every((run) => run.responses > 0), "every run got responses");
    assert.match(variant.networkPath ?? "", /^direct: wrk on the host network → http:\/\/127\.0\.0\.1:\d+ \(no container behind it/);
    assert.match(stdout + stderr, /host +http:\/\/127\.0\.0\.1:\d+ .*direct \(not a container\)/, `the plan names the path:\n${stdout}\n${stderr}`);
    assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /direct: wrk on the host network/);
    assert.strictEqual(spawnSync("docker", ["ps", "-q", "--filter", "name=optivolt-bench-host"], { encoding: "utf8" }).stdout.trim(), "", "no generator left behind");
  });
});
