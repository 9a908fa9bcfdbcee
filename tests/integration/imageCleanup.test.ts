// Old builds must not pile up: the program's recorded image, container and cleanup commands (one
// variant, under mocks) are played on the real engine the way the providers run them through two
// builds (a code change in between) and a destroy. The superseded build goes once its container
// is replaced, and the destroy leaves no image of the stack: none tagged with its name, none
// labelled with it.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STACK_LABEL } from "../../model/labels";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { RecordedResource, runLabUnderMocks } from "../../policy/offline/mockedLab";
import { docker, imageExists, IMAGES_DIR, requireDockerEngine } from "./support";

const STACK = `ovtest-fidelity-images-${process.pid}`;
const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** A copy of the web API's build context; `change` edits it the way a code change would. */
function contextCopy(dir: string, change?: string): string {
  fs.cpSync(IMAGES_DIR, dir, { recursive: true, filter: (source) => !/[\\/](node_modules|dist)([\\/]|$)/.test(path.relative(IMAGES_DIR, source)) });
  if (change !== undefined) fs.appendFileSync(path.join(dir, "src", "server.ts"), `\n// ${change}\n`);
  return dir;
}

/** `docker build` with the recorded docker.Image inputs, on another context; resolves with the image ID. */
async function build(image: RecordedResource, context: string): Promise<string> {
  const { build: spec, imageName } = image.inputs;
  const buildArgs = Object.entries(spec.args as Record<string, string>).flatMap(([key, value]) => ["--build-arg", `${key}=${value}`]);
  await docker(["build", "--quiet", "--network", spec.network, ...buildArgs, "--target", spec.target, "--tag", imageName, context], { timeoutMs: 15 * 60_000 });
  return (await docker(["image", "inspect", "--format", "{{.Id}}", imageName])).stdout.trim();
}

/** Runs a command resource's script as pulumi-command's local provider does (`sh -c`, its environment). */
function runScript(script: string, environment: Record<string, string>): string {
  return execFileSync("/bin/sh", ["-c", script], { env: { ...process.env, ...environment }, encoding: "utf8" });
}

async function imagesOfStack(): Promise<string[]> {
  const labelled = (await docker(["images", "--all", "--quiet", "--filter", `label=${STACK_LABEL}=${STACK}`])).stdout.split("\n").filter(Boolean);
  const tagged = (await docker(["images", "--quiet", `optivolt-webapi-${STACK}`])).stdout.split("\n").filter(Boolean);
  return [...new Set([...labelled, ...tagged])];
}

describe("image cleanup on a real engine: two builds and a destroy leave no image of the stack", function () {
  this.timeout(20 * 60_000);
  let workDir = "";
  let resources: RecordedResource[] = [];
  const find = (type: string, name: string) => resources.find((r) => r.type === type && r.name === name)!;
  let containerName = "";

  before(async () => {
    await requireDockerEngine();
    for (const base of Object.values(LOCAL_BASE_IMAGES)) {
      assert.ok(await imageExists(base), `the local base ${base} is missing: build it with \`npm run images:base\``);
    }
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-fidelity-images-"));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.ci.yaml"), path.join(workDir, `Pulumi.${STACK}.yaml`));
    const overrides = {
      "optivolt:networkName": STACK,
      "optivolt:monitoring": { enabled: false },
      "optivolt:baselineVariant": "minimal",
      "optivolt:variants": { minimal: { target: "minimal", cpus: 0.5, memoryMb: 128, hostPort: 18993 } },
    };
    resources = (await runLabUnderMocks(STACK, overrides, { stackDir: workDir })).resources;
    containerName = find("docker:index/container:Container", "minimal").inputs.name;
  });

  after(async () => {
    await docker(["rm", "--force", containerName]).catch(() => undefined);
    for (const id of await imagesOfStack().catch(() => [])) await docker(["image", "rm", "--force", id]).catch(() => undefined);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("removes the superseded build on the second `up`, and every image of the stack on destroy", async () => {
    const image = find("docker:index/image:Image", "webapi-minimal");
    const tracker = find("command:local:Command", "image-superseded-minimal").inputs;
    const cleanup = find("command:local:Command", "image-cleanup-minimal").inputs;
    assert.strictEqual(image.inputs.build.args.OPTIVOLT_STACK, STACK);

    // First `up`: build, the tracker's create records the build, the container runs it.
    const first = await build(image, contextCopy(path.join(workDir, "v1")));
    const firstRecorded = runScript(tracker.create, { ...tracker.environment, IMAGE_ID: first });
    assert.strictEqual(firstRecorded, first);
    await docker(["create", "--name", containerName, first]);

    // A code change and a second `up`: a new build takes the tag, the tracker is replaced (its
    // trigger), the container replaced (delete first: its name is fixed), then the replaced
    // tracker deleted, with what its create printed.
    const second = await build(image, contextCopy(path.join(workDir, "v2"), "a code change"));
    assert.notStrictEqual(second, first, "the code change makes a new build");
    const secondRecorded = runScript(tracker.create, { ...tracker.environment, IMAGE_ID: second });
    await docker(["rm", "--force", containerName]);
    await docker(["create", "--name", containerName, second]);
    runScript(tracker.delete, { ...tracker.environment, IMAGE_ID: first, PULUMI_COMMAND_STDOUT: firstRecorded });
    assert.strictEqual(await imageExists(first), false, "the superseded build is gone after the second `up`");
    assert.strictEqual(await imageExists(second), true, "the running build stays");

    // Destroy: the container, then the tracker, then the target's cleanup.
    await docker(["rm", "--force", containerName]);
    runScript(tracker.delete, { ...tracker.environment, IMAGE_ID: second, PULUMI_COMMAND_STDOUT: secondRecorded });
    runScript(cleanup.delete, cleanup.environment);
    const left = await imagesOfStack();
    console.log(`      builds ${first.slice(7, 19)} and ${second.slice(7, 19)}; images of the stack after destroy: ${left.length}`);
    assert.deepStrictEqual(left, [], "images of the stack left after destroy");
  });
});
