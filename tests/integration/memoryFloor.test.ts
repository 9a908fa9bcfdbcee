// Where the config's memory floors (MEMORY_FLOORS_MB in model/config/variants.ts) come from, and proof that
// each image target lives in its floor, on each runtime: every image runs first with room (512 MB)
// under 10 s of mixed /api/light + /api/heavy load to measure its resident set, then *at* its floor
// under the same load, which must end with no OOM kill, no restart and no failed request.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import autocannon from "autocannon";
import { IMAGE_TARGETS, ImageTarget, memoryFloorMb, Runtime, RUNTIMES } from "../../model/config";
import { dockerfileTarget, LOCAL_BASE_IMAGES } from "../../model/naming";
import {
  docker,
  ensureWebApiImages,
  IMAGES_DIR,
  inspectContainer,
  localBaseBuildArgs,
  removeContainer,
  requireDockerEngine,
  runVariantContainer,
  sampleWorkingSet,
  testImageTag,
  waitForHealth,
} from "./support";
import { containerCgroup } from "./support/docker";

const PREFIX = `ovtest-fidelity-floor-${process.pid}`;
const ROOMY_MB = 512;
const mib = (bytes: number) => bytes / 2 ** 20;

/**
 * The container's processes' peak resident sets added up (each one's VmHWM), in bytes. Not the
 * cgroup's working set: the page cache of the node binary is charged to whichever cgroup read it
 * first, which on a shared engine is often another container, while a variant alone on a fresh
 * host pays for it. The resident set counts those pages whoever was charged.
 */
async function peakResidentBytes(id: string): Promise<number> {
  const { memoryDir } = await containerCgroup(id);
  const pids = fs.readFileSync(path.join(memoryDir, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
  let total = 0;
  for (const pid of pids) {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    if (hwm) total += Number(hwm[1]) * 1024;
  }
  return total;
}

/** The test build of a (target, runtime): the Node ones from the shared support, the others built here from the local bases. */
async function imageOf(target: ImageTarget, runtime: Runtime): Promise<string> {
  if (runtime === "node") return (await ensureWebApiImages())[target];
  const tag = testImageTag(dockerfileTarget({ target, runtime }));
  const bunBases = ["--build-arg", `BUN_IMAGE=${LOCAL_BASE_IMAGES.bunImage}`, "--build-arg", `BUN_MINIMAL_IMAGE=${LOCAL_BASE_IMAGES.bunMinimalImage}`];
  await docker(["build", "--quiet", "--network", "host", ...localBaseBuildArgs(), ...bunBases, "--target", dockerfileTarget({ target, runtime }), "--tag", tag, IMAGES_DIR], { timeoutMs: 15 * 60_000 });
  return tag;
}

/** One image at one memory limit under the load; resolves with its peak resident set and working set in MiB. */
async function underLoad(target: ImageTarget, image: string, memoryMb: number): Promise<{ residentMib: number; workingSetMib: number; requests: number }> {
  const name = `${PREFIX}-${image.replace(/[^a-z0-9-]/g, "-")}-${memoryMb}`;
  try {
    // 1 CPU: one app process, the smallest a variant of this target runs.
    const container = await runVariantContainer({ name, target, image, cpus: 1, memoryMb });
    await waitForHealth(container.url, 60_000);
    const workingSet = sampleWorkingSet(container.id, 50);
    const result = await autocannon({ url: container.url, connections: 8, duration: 10, requests: [{ path: "/api/light" }, { path: "/api/heavy" }] });
    const workingSetMib = mib(await workingSet.stop());
    const residentMib = mib(await peakResidentBytes(container.id));
    const inspect = await inspectContainer(name);
    assert.strictEqual(inspect.State.OOMKilled, false, `${target} at ${memoryMb} MB was OOM-killed`);
    assert.strictEqual(inspect.State.Running, true, `${target} at ${memoryMb} MB stopped (exit ${inspect.State.ExitCode})`);
    assert.strictEqual(inspect.RestartCount, 0);
    assert.ok(result.requests.total > 100, `only ${result.requests.total} requests completed`);
    assert.strictEqual(result.errors + result.timeouts + result.non2xx, 0, `${target} at ${memoryMb} MB: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
    return { residentMib, workingSetMib, requests: result.requests.total };
  } finally {
    await removeContainer(name);
  }
}

describe("memory floors on a real engine: each target lives in its floor under load", function () {
  this.timeout(15 * 60_000);

  before(async () => {
    await requireDockerEngine();
    await ensureWebApiImages();
  });

  for (const runtime of RUNTIMES) {
    for (const target of IMAGE_TARGETS) {
      const label = dockerfileTarget({ target, runtime });
      it(`${label}: its peak resident set with room is under the floor, and a 10 s load at the floor succeeds`, async () => {
        const floor = memoryFloorMb(target, runtime);
        const image = await imageOf(target, runtime);
        const roomy = await underLoad(target, image, ROOMY_MB);
        const tight = await underLoad(target, image, floor);
        const figures = (run: typeof roomy, limit: number) =>
          `resident peak ${run.residentMib.toFixed(1)} MiB, cgroup working set peak ${run.workingSetMib.toFixed(1)} MiB at ${limit} MB (${run.requests} requests)`;
        console.log(`      ${label}: ${figures(roomy, ROOMY_MB)}; ${figures(tight, floor)}`);
        assert.ok(roomy.residentMib <= floor, `${label}: resident peak ${roomy.residentMib.toFixed(1)} MiB with room is above the floor of ${floor} MB`);
      });
    }
  }
});
