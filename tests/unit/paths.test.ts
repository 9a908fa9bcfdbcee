import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
/** Folders that hold no file a reader follows: generated (.gitignore: bin, dist, bench-results), installed, or (tests/) trees a test makes up. */
const SKIPPED = new Set(["node_modules", "tests", "bench-results", "dist", "bin"]);
const TEXT = /\.(ts|md|sh|cjs|js|json|ya?ml|lua|py)$|Dockerfile$/;
/** A path from the checkout's root to a file, as docs and comments write them (`model/config/variants.ts`). */
const REPO_PATH = /(?<![\w./-])(?:model|tooling|bench|components|policy|scripts|images|dashboards|unikernel|docs|examples|tests|microvm)\/[\w./-]*?\.(?:ts|md|sh|cjs|js|json|ya?ml|lua|py)\b/g;
/** Built by `npm run build` in images/ (the compiled app), not checked in. */
const GENERATED = /^images\/dist\//;

function textFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".") || SKIPPED.has(entry.name) || entry.name === "package-lock.json") return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return textFiles(full);
    return TEXT.test(entry.name) ? [full] : [];
  });
}

/** Every `file: path` where a file of the product or its docs names a repo file that does not exist. */
export function stalePaths(root: string): string[] {
  return textFiles(root).flatMap((file) =>
    [...fs.readFileSync(file, "utf8").matchAll(REPO_PATH)]
      .map((match) => match[0])
      .filter((named) => !GENERATED.test(named) && !fs.existsSync(path.join(root, named)))
      .map((named) => `${path.relative(root, file)}: ${named}`),
  );
}

describe("paths in docs and comments", () => {
  it("name only files that exist (a move updates every mention of the old path)", () => {
    assert.deepStrictEqual(stalePaths(ROOT), []);
  });

  it("reports a mention of a file that moved away", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-paths-"));
    try {
      fs.mkdirSync(path.join(dir, "model", "config"), { recursive: true });
      fs.writeFileSync(path.join(dir, "model", "config", "variants.ts"), "export {};\n");
      fs.writeFileSync(path.join(dir, "limits.ts"), "// shared with model/config/variants.ts and components/config/variants.ts\n");
      assert.deepStrictEqual(stalePaths(dir), ["limits.ts: components/config/variants.ts"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
