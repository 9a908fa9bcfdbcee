// The source-built unikernel for real: Unikraft's ELF loader built with make from the ci stack's
// archives (the vendored releases), Debian's Node and the app in a cpio initrd, booted by QEMU
// (TCG here: this machine's /dev/kvm cannot run it), every route checked through the forwarded
// port, scraped by a Prometheus container through the lab network's gateway, then stopped with
// nothing left behind. The commands are the ones the Pulumi program's command resources run.
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../../model/config";
import { sourceForwards } from "../../components/unikernel/network";
import { hostProbes } from "../../tooling/hostProbes";
import { qemuCpuset } from "../../bench/reach/qemu";
import { labScrapeTargets, renderPrometheusConfig, SCRAPE_JOBS, unikernelScrapeTarget } from "../../dashboards/prometheusConfig";
import {
  initrdBuildCommand,
  initrdDeleteCommand,
  kernelBuildCommand,
  kernelDeleteCommand,
  qemuStartCommand,
  qemuStopCommand,
  sourceLayout,
} from "../../components/unikernel/source";
import { assertErrorAnswers, assertServesEveryRoute } from "./support/routeChecks";
import { qemuProcessesFor, sh as runShell, ShellResult, shOk as runShellOk } from "./support/commandLines";
import { docker, freeLoopbackPort, imageExists, removeContainer, requireDockerEngine, until } from "./support";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const UNIKERNEL_DIR = path.join(PROJECT_DIR, "unikernel");
const PROMETHEUS_IMAGE = "optivolt/swarm-lab-prometheus:bookworm";

/** A command line run from unikernel/, where the unikernel's command resources run. */
const sh = (command: string, timeoutMs?: number) => runShell(command, UNIKERNEL_DIR, timeoutMs);
const shOk = (command: string, timeoutMs?: number) => runShellOk(command, UNIKERNEL_DIR, timeoutMs);

/** Local addresses something listens on for TCP `port`, from /proc/net/tcp (hex, little-endian IPv4). */
function listeningAddresses(port: number): string[] {
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 3 && fields[3] === "0A" && parseInt(fields[1].split(":")[1], 16) === port)
    .map((fields) => {
      const hex = fields[1].split(":")[0];
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
    })
    .sort();
}

describe("unikernel built from source and run by QEMU (real make, Docker, QEMU, Prometheus)", function () {
  this.timeout(900_000);
  const suffix = randomBytes(3).toString("hex");
  const config = loadStackConfig("ci");
  const unikernel = { ...config.unikernel };
  const layout = sourceLayout(PROJECT_DIR, `ovtest-${suffix}`);
  const tags = { appTag: `ovtest-unikernel-app:${suffix}`, payloadTag: `ovtest-unikernel-initrd:${suffix}` };
  const network = `ovtest-unikernel-${suffix}`;
  const prometheusName = `ovtest-unikernel-prometheus-${suffix}`;
  const prometheusDir = path.join(layout.kernelDir, "..", "prometheus");
  let kernelBuild: ShellResult;
  let kernelRebuild: ShellResult;
  let kernelSeconds = 0;
  let started: ShellResult;
  let gateway = "";
  let port = 0;
  let url = "";

  before(async function () {
    await requireDockerEngine();
    const missing = ["qemu-system-x86_64", "make", "gcc", "flex", "bison", "unzip", "cpio"].filter((tool) => !hostProbes.commandOnPath(tool));
    assert.deepStrictEqual(missing, [], "install QEMU and the build tools: apt-get install --no-install-recommends qemu-system-x86 build-essential flex bison unzip cpio");
    assert.strictEqual(unikernel.builder, "source", "the ci stack builds the unikernel from source");

    const buildStarted = Date.now();
    kernelBuild = await shOk(kernelBuildCommand(unikernel.source, layout, PROJECT_DIR));
    kernelSeconds = (Date.now() - buildStarted) / 1000;
    kernelRebuild = await shOk(kernelBuildCommand(unikernel.source, layout, PROJECT_DIR));
    await shOk(initrdBuildCommand(config.images, tags, layout));

    await docker(["network", "create", "--label", "optivolt.test=unikernel", network]);
    gateway = JSON.parse((await docker(["network", "inspect", network, "--format", "{{json .IPAM.Config}}"])).stdout)[0].Gateway as string;
    assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, "the test network has an IPv4 gateway");
    port = await freeLoopbackPort();
    url = `http://127.0.0.1:${port}`;
    const forwards = sourceForwards("127.0.0.1", port, gateway);
    started = await shOk(qemuStartCommand(unikernel, { layout, forwards, variant: "unikernel" }), 300_000);
    process.stdout.write(`      kernel ${kernelSeconds.toFixed(1)} s; ${started.stdout.split("\n").filter((l) => /answered|acceleration/.test(l)).join("; ")}\n`);
  });

  after(async () => {
    await removeContainer(prometheusName);
    await sh(qemuStopCommand(layout));
    await sh(initrdDeleteCommand(tags, layout));
    await sh(kernelDeleteCommand(layout));
    fs.rmSync(path.dirname(layout.kernelDir), { recursive: true, force: true });
    await docker(["network", "rm", network]).catch(() => undefined);
    // The stacks' parent folders too, when this suite was all they held.
    for (const dir of [path.dirname(path.dirname(layout.kernelDir)), path.dirname(layout.runDir)]) {
      if (fs.existsSync(dir) && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
    }
  });

  it("builds the ELF loader from the pinned archives with make, and a second build with the same inputs is cached", () => {
    const kernel = fs.readFileSync(layout.kernel);
    assert.strictEqual(kernel.subarray(0, 4).toString("latin1"), "\x7fELF", "the kernel is an ELF image");
    assert.ok(kernel.length > 100_000 && kernel.length < 10_000_000, `kernel size ${kernel.length}`);
    assert.match(kernelBuild.stdout, /elfloader_qemu-x86_64 \(\d+ bytes\) in \d+\.\d s/);
    assert.match(kernelRebuild.stdout, /cached/, "the rebuild did nothing");
    assert.strictEqual(fs.existsSync(path.join(layout.kernelDir, "work")), false, "the sources are removed after the build");
  });

  it("packs Debian's position-independent Node, its libraries, its JavaScript modules and the app into a newc cpio", async () => {
    const header = Buffer.alloc(6);
    const fd = fs.openSync(layout.initrd, "r");
    fs.readSync(fd, header, 0, 6, 0);
    fs.closeSync(fd);
    assert.strictEqual(header.toString("latin1"), "070701", "newc magic");
    const names = new Set((await shOk(`cpio -it --quiet < '${layout.initrd}'`)).stdout.split("\n"));
    for (const name of ["usr/bin/node", "app/dist/server.js", "lib64/ld-linux-x86-64.so.2", "usr/share/nodejs/undici/package.json", "tmp"]) {
      assert.ok(names.has(name), `${name} in the initrd`);
    }
    assert.ok([...names].some((name) => /libnode\.so\.\d+$/.test(name)), "libnode in the initrd");
    assert.ok(![...names].some((name) => name.startsWith("usr/share/nodejs/@types")), "type declarations left out");
  });

  it("chooses the acceleration by a probe boot, says which and why, and answers /health within the deadline", () => {
    const accel = /^accel=(kvm|tcg)$/m.exec(started.stdout);
    assert.ok(accel, `accel line in:\n${started.stdout}`);
    assert.match(started.stderr, new RegExp(`acceleration ${accel[1]} \\(`), "the reason is printed");
    assert.match(started.stdout, /answered \d+\.\d s after QEMU started/);
    assert.ok(fs.existsSync(layout.pidFile), "pid file");
  });

  it("pins QEMU to the stack's cpuset, so the bench keeps a core for its load generator", () => {
    assert.ok(unikernel.cpuset !== undefined, "the ci stack sets unikernel.cpuset");
    assert.strictEqual(qemuCpuset(Number(fs.readFileSync(layout.pidFile, "utf8"))), unikernel.cpuset);
  });

  it("serves every route and the error answers through the forwarded port", async () => {
    await assertServesEveryRoute(url, "unikernel");
    await assertErrorAnswers(url);
  });

  it("forwards only on loopback and the lab network's gateway, where a Prometheus container scrapes it", async () => {
    assert.deepStrictEqual(listeningAddresses(port), [gateway, "127.0.0.1"].sort(), "nothing listens on 0.0.0.0 or another address");
    fs.mkdirSync(prometheusDir, { recursive: true });
    // The program's own Prometheus config for the ci stack, its unikernel job aimed at the gateway forward.
    const targets = { ...labScrapeTargets(config), unikernel: unikernelScrapeTarget(gateway, port) };
    fs.writeFileSync(path.join(prometheusDir, "prometheus.yml"), renderPrometheusConfig(config, targets));
    assert.ok(await imageExists(PROMETHEUS_IMAGE), `${PROMETHEUS_IMAGE} exists (npm run images:base builds it)`);
    const prometheusPort = await freeLoopbackPort();
    await docker([
      "run", "--detach", "--name", prometheusName, "--network", network, "--publish", `127.0.0.1:${prometheusPort}:9090`,
      "--volume", `${prometheusDir}:/etc/prometheus:ro`, PROMETHEUS_IMAGE,
      "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/tmp/prometheus",
    ]);
    const query = async (promql: string) => {
      const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) });
      return ((await response.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    };
    const up = await until("Prometheus scrapes the unikernel (up == 1)", 90_000, async () => {
      const result = await query(`up{job="${SCRAPE_JOBS.unikernel}",variant="unikernel",isolation="qemu"}`).catch(() => []);
      return result.length > 0 && result[0].value[1] === "1" ? result : undefined;
    });
    assert.strictEqual(up.length, 1);
    const requests = await until("request counts from the guest", 30_000, async () => {
      const result = await query(`sum(http_requests_total{job="${SCRAPE_JOBS.unikernel}",variant="unikernel"})`).catch(() => []);
      return result.length > 0 && Number(result[0].value[1]) > 0 ? result : undefined;
    });
    assert.ok(Number(requests[0].value[1]) > 0);
  });

  it("refuses a guest too small for its payload with the guest's own log, leaving no QEMU and no files", async () => {
    const small = sourceLayout(PROJECT_DIR, `ovtest-small-${suffix}`);
    const tooSmall = await sh(
      qemuStartCommand({ ...unikernel, memoryMi: 128, healthTimeoutSeconds: 60 }, { layout: { ...layout, runDir: small.runDir, pidFile: small.pidFile }, forwards: [`127.0.0.1:${await freeLoopbackPort()}`], variant: "unikernel" }),
      120_000,
    );
    // What the runner printed, so a start that did succeed says what answered and when.
    assert.notStrictEqual(tooSmall.code, 0, `a 128 MiB guest started:\n${tooSmall.stdout}\n${tooSmall.stderr}`);
    assert.match(tooSmall.stderr, /the guest's last lines/);
    assert.match(tooSmall.stderr, /try more memoryMi/);
    assert.strictEqual(fs.existsSync(small.runDir), false, "its run folder is removed");
    assert.deepStrictEqual(qemuProcessesFor(small.runDir), [], "no QEMU left running");
  });

  it("stops QEMU on delete and the delete steps leave no process, file or image behind", async () => {
    const pid = Number(fs.readFileSync(layout.pidFile, "utf8"));
    const stopped = await shOk(qemuStopCommand(layout));
    assert.match(stopped.stdout, new RegExp(`stopped pid ${pid}`));
    assert.deepStrictEqual(qemuProcessesFor(layout.runDir), []);
    assert.strictEqual(fs.existsSync(layout.runDir), false, "run folder removed");
    await shOk(qemuStopCommand(layout));
    await shOk(initrdDeleteCommand(tags, layout));
    await shOk(kernelDeleteCommand(layout));
    assert.strictEqual(fs.existsSync(layout.initrd), false, "initrd removed");
    assert.strictEqual(fs.existsSync(layout.kernelDir), false, "kernel removed");
    assert.strictEqual(await imageExists(tags.payloadTag), false, "initrd image removed");
    assert.strictEqual(await imageExists(tags.appTag), false, "app image removed");
  });
});
