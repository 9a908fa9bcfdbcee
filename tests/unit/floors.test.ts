// The import floors of docs/architecture.md, as `npm run floors` (part of `npm test`) checks them with
// dependency-cruiser (.dependency-cruiser.cjs): the real tree passes, and a fixture tree that reaches
// up a floor, closes a circle and imports tests/ from product code fails on each.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const DEPCRUISE = path.join(ROOT, "node_modules", ".bin", "depcruise");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

function violationsIn(dir: string): Violation[] {
  const out = execFileSync(DEPCRUISE, ["--config", CONFIG, "--output-type", "json", "."], { cwd: dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

describe("import floors (dependency-cruiser)", function () {
  this.timeout(60000);

  it("the project has no import up a floor, no circle and no product import of tests/", () => {
    const violations = violationsIn(ROOT);
    assert.deepStrictEqual(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
  });

  it("fails a tree whose model imports a component, which imports it back, whose policy imports tests/ and whose study loads with autocannon itself", () => {
    const found = violationsIn(path.join(ROOT, "tests", "fixtures", "floors")).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    assert.ok(found.includes("model-imports-only-model: model/naming.ts -> components/lab.ts"), found.join("\n"));
    assert.ok(found.includes("product-never-imports-tests: policy/check.ts -> tests/helper.ts"), found.join("\n"));
    assert.ok(found.some((v) => v.startsWith("no-circular: ")), found.join("\n"));
    assert.ok(found.some((v) => /^studies-load-through-the-session: bench\/studies\/ownLoop\.ts -> .*node_modules\/autocannon\//.test(v)), found.join("\n"));
  });
});
