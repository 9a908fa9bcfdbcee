import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The web API's sources and recipe, relative to the project root: both builders pack the same build as the images. */
export const WEB_API_BUILD_INPUTS: readonly string[] = [
  "images/src",
  "images/package.json",
  "images/package-lock.json",
  "images/tsconfig.json",
  "images/Dockerfile",
  "images/.dockerignore",
];

/**
 * Everything kraft's root file system is made from: the web API and this folder's recipe.
 * Generated output (rootfs/, .unikraft/) and the health probe are deliberately not inputs.
 */
export const UNIKERNEL_BUILD_INPUTS: readonly string[] = [...WEB_API_BUILD_INPUTS, "unikernel/Dockerfile", "unikernel/Kraftfile"];

function listFiles(root: string, relative: string): string[] {
  const absolute = path.join(root, relative);
  const stat = fs.statSync(absolute, { throwIfNoEntry: false });
  if (stat === undefined) return [];
  if (!stat.isDirectory()) return [relative];
  return fs
    .readdirSync(absolute)
    .flatMap((entry) => listFiles(root, path.posix.join(relative, entry)));
}

/**
 * SHA-256 over the inputs' relative paths and contents, in a fixed order: it changes when any
 * input file changes, appears, disappears or is renamed, and never because of timestamps.
 */
export function hashBuildInputs(projectDir: string, inputs: readonly string[] = UNIKERNEL_BUILD_INPUTS): string {
  const hash = createHash("sha256");
  const files = [...new Set(inputs.flatMap((input) => listFiles(projectDir, input)))].sort();
  for (const file of files) {
    const content = fs.readFileSync(path.join(projectDir, file));
    // Path and length first, so no two different trees feed the hash the same bytes.
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex");
}
