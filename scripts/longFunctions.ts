// `npm run functions:long`: lists every function, method and constructor of the product code longer
// than 80 lines (file:line, lines, name) and exits 1 when there is one. The team's rule: no
// function over 80 lines outside declarative tables (tests/unit/longFunctions.test.ts holds the product to it).
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const PRODUCT_DIRS = ["model", "tooling", "dashboards", "bench", "components", "policy", "scripts", "images/src", "unikernel"];
export const MAX_FUNCTION_LINES = 80;

export interface LongFunction {
  file: string;
  line: number;
  lines: number;
  name: string;
}

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : tsFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText();
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return "(anonymous)";
}

/** The functions of `file` longer than `max` lines. */
export function longFunctionsIn(file: string, text: string, max = MAX_FUNCTION_LINES): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (end - start + 1 > max) found.push({ file, line: start + 1, lines: end - start + 1, name: nameOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The functions of the product code (PRODUCT_DIRS and index.ts under `root`) longer than MAX_FUNCTION_LINES. */
export function longFunctionsOfProduct(root = ROOT): LongFunction[] {
  return PRODUCT_DIRS.flatMap((dir) => tsFiles(path.join(root, dir)))
    .concat(path.join(root, "index.ts"))
    .flatMap((file) => longFunctionsIn(path.relative(root, file), fs.readFileSync(file, "utf8")));
}

function main(): void {
  const found = longFunctionsOfProduct();
  for (const f of found) console.log(`${f.file}:${f.line}  ${f.lines} lines  ${f.name}`);
  console.log(found.length === 0 ? `no function over ${MAX_FUNCTION_LINES} lines` : `${found.length} functions over ${MAX_FUNCTION_LINES} lines`);
  process.exitCode = found.length === 0 ? 0 : 1;
}

if (require.main === module) main();
