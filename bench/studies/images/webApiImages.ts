/** The web API's Dockerfile targets built from the local bases, under tags apart from the lab's (the images study and the tests build them). */
import * as path from "path";
import { LOCAL_BASE_IMAGES } from "../../../model/naming";
import { docker } from "../../../tooling/docker";

/** Build context of the web API images. */
export const IMAGES_DIR = path.resolve(__dirname, "..", "..", "..", "images");

/** Docker build arguments that point the Dockerfile at the bases `npm run images:base` makes. */
export function localBaseBuildArgs(): string[] {
  return [
    "--build-arg", `NODE_IMAGE=${LOCAL_BASE_IMAGES.nodeImage}`,
    "--build-arg", `NODE_MINIMAL_IMAGE=${LOCAL_BASE_IMAGES.nodeMinimalImage}`,
    "--build-arg", `BUN_IMAGE=${LOCAL_BASE_IMAGES.bunImage}`,
    "--build-arg", `BUN_MINIMAL_IMAGE=${LOCAL_BASE_IMAGES.bunMinimalImage}`,
  ];
}

/**
 * Tag the tests build a target under: apart from the lab's own tags, so a test run never retags a
 * deployed lab's image; OPTIVOLT_TEST_IMAGE_REPO keeps concurrent checkouts on one engine apart.
 */
export function testImageTag(target: string): string {
  return `${process.env.OPTIVOLT_TEST_IMAGE_REPO ?? "optivolt-webapi-test"}:${target}`;
}

/** Builds one Dockerfile target (e.g. `minimal-bun`) from the local bases, on the host network like the lab's offline builds. */
export async function buildWebApiImage(target: string): Promise<string> {
  const tag = testImageTag(target);
  await docker(["build", "--quiet", "--network", "host", ...localBaseBuildArgs(), "--target", target, "--tag", tag, IMAGES_DIR], {
    timeoutMs: 15 * 60_000,
  });
  return tag;
}
