import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { APP_PORT } from "../../model/naming";
import { hostProbes, ROOTFS_DIR } from "../../components/unikernel";
import { hashBuildInputs, UNIKERNEL_BUILD_INPUTS } from "../../model/buildInputs";
import { HealthTimeoutError, waitForHealth } from "../../unikernel/wait-for-health";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const UNIKERNEL_DIR = path.join(PROJECT_DIR, "unikernel");

interface Kraftfile {
  spec: string;
  runtime: string;
  rootfs: string;
  cmd: string[];
  env: Record<string, string>;
}

function readKraftfile(): Kraftfile {
  return parseYaml(fs.readFileSync(path.join(UNIKERNEL_DIR, "Kraftfile"), "utf8")) as Kraftfile;
}

/** CMD (JSON form) and ENV of unikernel/Dockerfile's final stage. */
function readDockerfile(): { cmd: string[]; env: Record<string, string> } {
  const text = fs.readFileSync(path.join(UNIKERNEL_DIR, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const lines = text.split("\n").map((line) => line.trim());
  const cmdLine = lines.filter((line) => line.startsWith("CMD ")).pop();
  assert.ok(cmdLine, "unikernel/Dockerfile has a CMD");
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith("ENV "))) {
    for (const [, key, value] of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[key] = value;
  }
  return { cmd: JSON.parse(cmdLine.slice(4)) as string[], env };
}

describe("unikernel recipe", () => {
  describe("Kraftfile", () => {
    it("parses as a v0.6 Kraftfile on the ELF-loader runtime with the generated rootfs directory", () => {
      const kraftfile = readKraftfile();
      assert.strictEqual(kraftfile.spec, "v0.6");
      assert.strictEqual(kraftfile.runtime, "base:latest");
      assert.strictEqual(kraftfile.rootfs, `./${ROOTFS_DIR}`);
    });

    it("starts the app on the port the run step forwards to, as the unikernel variant", () => {
      const { env } = readKraftfile();
      assert.strictEqual(Number(env.PORT), APP_PORT);
      assert.strictEqual(env.VARIANT, "unikernel");
      // One process: a unikernel has nothing to fork a worker into.
      assert.strictEqual(env.WORKERS, "1");
    });

    it("agrees with the rootfs recipe's CMD and ENV (the integration suite runs that image)", () => {
      const kraftfile = readKraftfile();
      const dockerfile = readDockerfile();
      assert.deepStrictEqual(kraftfile.cmd, dockerfile.cmd);
      assert.deepStrictEqual(kraftfile.env, dockerfile.env);
      assert.ok(kraftfile.cmd.every((part) => path.posix.isAbsolute(part)), "the ELF loader needs absolute paths: there is no shell or PATH search");
    });

    it("keeps the generated rootfs and kraft build output out of git", () => {
      const ignore = fs.readFileSync(path.join(UNIKERNEL_DIR, ".gitignore"), "utf8");
      assert.match(ignore, new RegExp(`^/${ROOTFS_DIR}/$`, "m"));
      assert.match(ignore, /^\/\.unikraft\/$/m);
    });
  });

  describe("build trigger (hash of the app and the recipe)", () => {
    let dir: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-hash-"));
      for (const file of ["images/src/server.ts", "images/src/routes/heavy.ts", "images/package.json", "images/Dockerfile", "unikernel/Kraftfile", "unikernel/Dockerfile", "README.md", "bench/cli/cli.ts"]) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), `content of ${file}\n`);
      }
    });

    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("stays put when nothing changed, or only files outside the app and recipe", () => {
      const before = hashBuildInputs(dir);
      assert.strictEqual(hashBuildInputs(dir), before);
      fs.writeFileSync(path.join(dir, "README.md"), "edited\n");
      fs.writeFileSync(path.join(dir, "bench/cli/cli.ts"), "edited\n");
      fs.mkdirSync(path.join(dir, "unikernel/rootfs/app"), { recursive: true });
      fs.writeFileSync(path.join(dir, "unikernel/rootfs/app/x.js"), "generated\n");
      assert.strictEqual(hashBuildInputs(dir), before);
    });

    it("changes when an app source changes, appears or is renamed", () => {
      const before = hashBuildInputs(dir);
      fs.writeFileSync(path.join(dir, "images/src/routes/heavy.ts"), "changed\n");
      const edited = hashBuildInputs(dir);
      assert.notStrictEqual(edited, before);
      fs.writeFileSync(path.join(dir, "images/src/new.ts"), "new\n");
      const added = hashBuildInputs(dir);
      assert.notStrictEqual(added, edited);
      fs.renameSync(path.join(dir, "images/src/new.ts"), path.join(dir, "images/src/renamed.ts"));
      assert.notStrictEqual(hashBuildInputs(dir), added);
    });

    it("changes when the recipe changes", () => {
      const before = hashBuildInputs(dir);
      fs.appendFileSync(path.join(dir, "unikernel/Kraftfile"), "# edit\n");
      assert.notStrictEqual(hashBuildInputs(dir), before);
    });

    it("covers the real app sources and recipe of this repository", () => {
      for (const input of ["images/src", "unikernel/Kraftfile", "unikernel/Dockerfile"]) assert.ok(UNIKERNEL_BUILD_INPUTS.includes(input));
      assert.match(hashBuildInputs(PROJECT_DIR), /^[0-9a-f]{64}$/);
    });
  });

  describe("host probes", () => {
    let dir: string;
    let savedPath: string | undefined;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-unikernel-path-"));
      savedPath = process.env.PATH;
    });

    afterEach(() => {
      process.env.PATH = savedPath;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("finds an executable kraft on PATH, and ignores a non-executable one", () => {
      const kraft = path.join(dir, "kraft");
      fs.writeFileSync(kraft, "#!/bin/sh\n", { mode: 0o644 });
      process.env.PATH = `/nonexistent${path.delimiter}${dir}`;
      assert.strictEqual(hostProbes.commandOnPath("kraft"), false);
      fs.chmodSync(kraft, 0o755);
      assert.strictEqual(hostProbes.commandOnPath("kraft"), true);
      process.env.PATH = "/nonexistent";
      assert.strictEqual(hostProbes.commandOnPath("kraft"), false);
    });
  });

  describe("wait-for-health", () => {
    let server: http.Server;
    let url: string;
    let healthyAfter: number;
    let calls: number;

    before(async () => {
      server = http.createServer((req, res) => {
        calls++;
        res.statusCode = req.url === "/health" && calls > healthyAfter ? 200 : 503;
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    beforeEach(() => {
      calls = 0;
    });

    it("returns once the service answers 2xx", async () => {
      healthyAfter = 3;
      await waitForHealth(url, { timeoutMs: 5000, intervalMs: 10 });
      assert.strictEqual(calls, 4);
    });

    it("fails past the deadline with the URL, the deadline and the last answer", async () => {
      healthyAfter = Infinity;
      let clock = 0;
      await assert.rejects(
        waitForHealth(url, { timeoutMs: 3000, intervalMs: 1000, now: () => clock, sleep: async (ms) => void (clock += ms) }),
        (error: Error) => error instanceof HealthTimeoutError && error.message === `${url} did not answer within 3 s (last attempt: HTTP 503)`,
      );
      assert.strictEqual(calls, 4, "polls at 0, 1, 2 and 3 s, then gives up");
    });

    it("names the connection error when nothing listens", async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      await assert.rejects(waitForHealth(`http://127.0.0.1:${port}/health`, { timeoutMs: 1, intervalMs: 10 }), /last attempt: ECONNREFUSED\)$/);
    });
  });
});
