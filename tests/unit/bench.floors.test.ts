/** The bench's folders import only downwards (bench/README's table), and tooling/ imports nothing of the lab. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
/** Bottom first: a file may import from its own floor or any below it. */
const FLOORS = ["tooling", "bench", "bench/numbers", "bench/counters", "bench/engines", "bench/reach", "bench/report", "bench/session", "bench/cli", "bench/studies"];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sources(rel);
    return entry.name.endsWith(".ts") ? [rel] : [];
  });
}

/** Index in FLOORS of the deepest folder holding `file`; -1 outside them. */
function floorOf(file: string): number {
  return FLOORS.reduce((best, floor, i) => (file.startsWith(`${floor}/`) ? i : best), -1);
}

/** Repository-relative targets of a file's relative imports. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/from "(\.[^"]+)"/g)].map((m) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), m[1])));
}

describe("bench and tooling floors", () => {
  it("no bench file imports a folder above its own, and none imports tests/", () => {
    const wrong = sources("bench").flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith("tests/") || floorOf(`${target}.ts`) > floorOf(file))
        .map((target) => `${file} → ${target}`),
    );
    assert.deepStrictEqual(wrong, []);
  });

  it("tooling/ imports nothing of the lab (it is the floor under components, bench, policy and scripts)", () => {
    const wrong = sources("tooling").flatMap((file) => importsOf(file).filter((target) => !target.startsWith("tooling/")).map((target) => `${file} → ${target}`));
    assert.deepStrictEqual(wrong, []);
  });
});
