// The unikernel's root file system on a real Docker engine (kraft cannot be installed here):
// the rootfs step's own command builds it, the tree holds what the Kraftfile starts, the app in
// it serves every route as a plain container, and its memory floor is found by bisection.
import * as assert from "assert";
import { execFile } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { UNIKERNEL_DEFAULT_MEMORY_MI } from "../../model/config/unikernel";
import { APP_PORT, LOCAL_BASE_IMAGES } from "../../model/naming";
import { KRAFT_MEMORY_ESTIMATE_MI, rootfsBuildCommand, rootfsDeleteCommand, RootfsCommandArgs, unikernelMemoryEstimateMi } from "../../components/unikernel";
import {
  docker,
  freeLoopbackPort,
  getJson,
  httpRequest,
  imageExists,
  inspectContainer,
  removeContainer,
  requireDockerEngine,
  sumSamples,
  waitForHealth,
} from "./support";

const UNIKERNEL_DIR = path.resolve(__dirname, "..", "..", "unikernel");
const MiB = 1024 * 1024;
const KRAFTFILE = parseYaml(fs.readFileSync(path.join(UNIKERNEL_DIR, "Kraftfile"), "utf8")) as { cmd: string[]; env: Record<string, string> };

/** Runs a shell command the way a command resource does (`/bin/sh -c`, in unikernel/). */
function sh(command: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("/bin/sh", ["-c", command], { cwd: UNIKERNEL_DIR, timeout: timeoutMs, maxBuffer: 16 * MiB }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(`sh -c failed (${error.code ?? error.signal}): ${stderr.trim() || error.message}`), { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

function duMiB(dir: string): number {
  let bytes = 0;
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) bytes += fs.statSync(full).size;
    }
  };
  walk(dir);
  return bytes / MiB;
}

/** ELF header facts the Unikraft ELF loader cares about: object type and program interpreter. */
function elfFacts(file: string): { type: number; interpreter?: string } {
  const data = fs.readFileSync(file);
  assert.strictEqual(data.subarray(0, 4).toString("latin1"), "\x7fELF", `${file} is an ELF file`);
  const type = data.readUInt16LE(16);
  const phoff = Number(data.readBigUInt64LE(0x20));
  const phentsize = data.readUInt16LE(0x36);
  const phnum = data.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    if (data.readUInt32LE(header) === 3 /* PT_INTERP */) {
      const offset = Number(data.readBigUInt64LE(header + 8));
      const size = Number(data.readBigUInt64LE(header + 32));
      return { type, interpreter: data.subarray(offset, offset + size).toString("latin1").replace(/\0+$/, "") };
    }
  }
  return { type };
}

interface Started {
  name: string;
  url: string;
}

describe("unikernel root file system (Docker engine)", function () {
  this.timeout(6 * 60_000);
  const id = randomBytes(4).toString("hex");
  const prefix = `ovtest-unikernel-${id}`;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-rootfs-`));
  // This lab has no registry, so no PIE Node 22 (node:22-alpine): the tree gets the local base's
  // Node (nodejs.org's non-PIE build). It runs as a container; the PIE guard is tested on its own.
  const rootfs: RootfsCommandArgs = {
    images: { ...LOCAL_BASE_IMAGES, buildNetwork: "host" },
    nodeImage: LOCAL_BASE_IMAGES.nodeImage,
    appImageTag: `${prefix}-app:test`,
    rootfsImageTag: `${prefix}-rootfs:test`,
    outDir,
    requirePie: false,
  };
  const containers: string[] = [];

  async function start(suffix: string, memoryMi: number): Promise<Started> {
    const name = `${prefix}-${suffix}`;
    containers.push(name);
    const port = await freeLoopbackPort();
    await docker(
      ["run", "--detach", "--name", name, "--cpus", "1", "--memory", `${memoryMi}m`, "--memory-swap", `${memoryMi}m`, "--publish", `127.0.0.1:${port}:${APP_PORT}`, rootfs.rootfsImageTag],
      { timeoutMs: 60_000 },
    );
    return { name, url: `http://127.0.0.1:${port}` };
  }

  before(async function () {
    this.timeout(12 * 60_000);
    await requireDockerEngine();
    for (const base of Object.values(LOCAL_BASE_IMAGES)) {
      if (!(await imageExists(base))) throw new Error(`The local base image ${base} is missing: build it first with \`npm run images:base\` (as root).`);
    }
    await sh(rootfsBuildCommand(rootfs), 10 * 60_000);
  });

  after(async function () {
    this.timeout(2 * 60_000);
    for (const name of containers) await removeContainer(name);
    await sh(rootfsDeleteCommand(rootfs), 60_000);
    await docker(["image", "rm", "--force", `${prefix}-pie-check:test`]).catch(() => undefined);
  });

  it("the rootfs step's command extracts a tree holding what the Kraftfile starts, and nothing from docker export", () => {
    const [node, script] = KRAFTFILE.cmd;
    const nodePath = path.join(outDir, node);
    assert.ok(fs.statSync(nodePath).mode & 0o111, `${node} is executable in the tree`);
    assert.ok(fs.statSync(path.join(outDir, script)).isFile(), `${script} is in the tree`);
    const { interpreter } = elfFacts(nodePath);
    assert.ok(interpreter, "Node is dynamically linked");
    assert.ok(fs.existsSync(path.join(outDir, interpreter)), `its program interpreter ${interpreter} is in the tree`);
    assert.ok(fs.existsSync(path.join(outDir, "app", "node_modules", "prom-client")), "production dependencies are in the tree");
    for (const absent of [".dockerenv", "bin/sh", "etc/hosts", "etc/resolv.conf", "usr/lib/node_modules/npm"]) {
      assert.ok(!fs.existsSync(path.join(outDir, absent)), `${absent} is not in the tree`);
    }
    assert.deepStrictEqual(fs.readdirSync(path.join(outDir, "dev")), [], "no device nodes: Unikraft mounts its own /dev");
    const sizeMi = duMiB(outDir);
    console.log(`      rootfs: ${sizeMi.toFixed(1)} MiB (Node ${(fs.statSync(nodePath).size / MiB).toFixed(1)} MiB)`);
    assert.ok(sizeMi < 200, `the tree is ${sizeMi.toFixed(1)} MiB; the initramfs sits in guest RAM, keep it lean`);
  });

  it("refuses a Node that Unikraft's ELF loader cannot run (not position-independent), with the fix", async () => {
    assert.notStrictEqual(elfFacts(path.join(outDir, KRAFTFILE.cmd[0])).type, 3, "the local base's Node is nodejs.org's non-PIE build");
    await assert.rejects(
      sh(`docker build --quiet --force-rm --build-arg APP_IMAGE=${rootfs.appImageTag} --build-arg NODE_IMAGE=${rootfs.nodeImage} --tag ${prefix}-pie-check:test - < Dockerfile`, 5 * 60_000),
      (error: Error & { stderr?: string }) => /is not position-independent \(ELF type 2, want 3\).*node:22-alpine/.test(error.stderr ?? ""),
    );
  });

  it("the image runs the Kraftfile's command with the Kraftfile's environment", async () => {
    const config = JSON.parse((await docker(["image", "inspect", "--format", "{{json .Config}}", rootfs.rootfsImageTag])).stdout) as { Cmd: string[]; Env: string[] };
    assert.deepStrictEqual(config.Cmd, KRAFTFILE.cmd);
    for (const [key, value] of Object.entries(KRAFTFILE.env)) assert.ok(config.Env.includes(`${key}=${value}`), `ENV ${key}=${value}`);
  });

  it("serves every route as a plain container under the unikernel's default memory", async () => {
    const app = await start("routes", UNIKERNEL_DEFAULT_MEMORY_MI);
    await waitForHealth(app.url, 30_000);

    const root = await getJson(`${app.url}/`);
    assert.strictEqual(root.status, 200);
    assert.strictEqual((root.json as { variant: string }).variant, "unikernel");
    assert.strictEqual((await getJson(`${app.url}/api/light`)).status, 200);
    const heavy = await httpRequest(`${app.url}/api/heavy`);
    assert.strictEqual(heavy.status, 200);
    assert.ok(heavy.body.length >= 500 * 1024, `/api/heavy is ${heavy.body.length} bytes`);
    const started = Date.now();
    const slow = await getJson(`${app.url}/api/slow?ms=300`);
    assert.strictEqual(slow.status, 200);
    assert.ok(Date.now() - started >= 290, "/api/slow waits");
    const health = await getJson(`${app.url}/health`);
    assert.strictEqual(health.status, 200);
    const metrics = await httpRequest(`${app.url}/metrics`);
    assert.strictEqual(metrics.status, 200);
    assert.match(metrics.headers["content-type"] ?? "", /^text\/plain/);
    assert.ok(sumSamples(metrics.body.toString("utf8"), "process_resident_memory_bytes", { variant: "unikernel" }) > 0, "metrics carry the unikernel variant");
    const missing = await getJson(`${app.url}/nope`);
    assert.strictEqual(missing.status, 404);
    assert.strictEqual((missing.json as { error: string }).error, "not_found");
    const bad = await getJson(`${app.url}/api/slow?ms=soon`);
    assert.strictEqual(bad.status, 400);
    assert.match((bad.json as { message: string }).message, /ms must be a whole number/);
  });

  describe("memory floor", () => {
    /** A small, bounded load: every route that allocates (heavy bodies, metrics), 8 at a time. */
    async function smallLoad(url: string): Promise<string | undefined> {
      const paths = ["/api/heavy", "/api/light", "/metrics", "/", "/api/heavy", "/health"];
      const total = 180;
      let next = 0;
      let failure: string | undefined;
      const worker = async () => {
        while (failure === undefined && next < total) {
          const p = paths[next++ % paths.length];
          try {
            const answer = await httpRequest(`${url}${p}`, { timeoutMs: 10_000 });
            if (answer.status !== 200) failure = `${p}: HTTP ${answer.status}`;
          } catch (error) {
            failure = `${p}: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return failure;
    }

    interface Trial {
      memoryMi: number;
      ok: boolean;
      detail: string;
      rssMi?: number;
    }

    /** Starts the tree under `memoryMi` (no swap), loads it, and says whether it came through intact. */
    async function trial(memoryMi: number): Promise<Trial> {
      const app = await start(`mem-${memoryMi}`, memoryMi);
      try {
        await waitForHealth(app.url, 20_000);
        const failure = await smallLoad(app.url);
        if (failure !== undefined) return { memoryMi, ok: false, detail: failure };
        const metrics = await httpRequest(`${app.url}/metrics`, { timeoutMs: 10_000 });
        const state = (await inspectContainer(app.name)).State;
        if (!state.Running || state.OOMKilled) return { memoryMi, ok: false, detail: `container ${state.Status}, OOM-killed: ${state.OOMKilled}` };
        const rssMi = sumSamples(metrics.body.toString("utf8"), "process_resident_memory_bytes") / MiB;
        return { memoryMi, ok: true, detail: `RSS ${rssMi.toFixed(1)} MiB`, rssMi };
      } catch (error) {
        const state = await inspectContainer(app.name).then((s) => s.State, () => undefined);
        return { memoryMi, ok: false, detail: `${error instanceof Error ? error.message : String(error)}${state?.OOMKilled ? " (OOM-killed)" : ""}` };
      } finally {
        await removeContainer(app.name);
      }
    }

    it("is found by bisection between 256 and 8 MiB, and the default memoryMi covers the payload plus Unikraft's own needs", async () => {
      const trials: Trial[] = [];
      const run = async (memoryMi: number) => {
        const result = await trial(memoryMi);
        trials.push(result);
        console.log(`      ${String(memoryMi).padStart(3)} MiB: ${result.ok ? "ok  " : "FAIL"} ${result.detail}`);
        return result;
      };

      const roomy = await run(256);
      assert.ok(roomy.ok, `the app must come through the load with 256 MiB: ${roomy.detail}`);
      let passing = 256;
      let failing = 8;
      if ((await run(failing)).ok) passing = failing;
      // Bisection to 4 MiB: at most six more runs.
      while (passing - failing > 4) {
        const middle = Math.round((passing + failing) / 2);
        if ((await run(middle)).ok) passing = middle;
        else failing = middle;
      }

      const rssMi = Math.max(...trials.filter((t) => t.rssMi !== undefined).map((t) => t.rssMi!));
      const rootfsMi = duMiB(outDir);
      const estimate = unikernelMemoryEstimateMi(Math.max(passing, Math.ceil(rssMi)), Math.ceil(rootfsMi));
      console.log(
        `      floor: ${passing} MiB (fails at ${failing} MiB); peak RSS ${rssMi.toFixed(1)} MiB; rootfs ${rootfsMi.toFixed(1)} MiB; ` +
          `unikernel estimate ${estimate} Mi; kraft's warning threshold ${KRAFT_MEMORY_ESTIMATE_MI} Mi`,
      );
      assert.ok(passing < 256, "a floor below the roomiest budget was found");
      assert.ok(
        KRAFT_MEMORY_ESTIMATE_MI >= estimate,
        `kraft's memory estimate (${KRAFT_MEMORY_ESTIMATE_MI}) is below what the measurements call for (${estimate}): raise KRAFT_MEMORY_ESTIMATE_MI and docs/unikernel.md`,
      );
    });
  });
});
