import * as assert from "assert";
import { longFunctionsIn, longFunctionsOfProduct, MAX_FUNCTION_LINES } from "../../scripts/longFunctions";

/** A function of `lines` lines in all (its signature and closing brace included). */
const functionOf = (lines: number) => `export function long(): number {\n${"  void 0;\n".repeat(lines - 3)}  return 1;\n}\n`;

describe("function length (npm run functions:long)", () => {
  it(`finds no function, method or constructor of the product code over ${MAX_FUNCTION_LINES} lines`, () => {
    assert.deepStrictEqual(longFunctionsOfProduct(), []);
  });

  it(`flags a function of ${MAX_FUNCTION_LINES + 1} lines, not one of ${MAX_FUNCTION_LINES}`, () => {
    assert.deepStrictEqual(longFunctionsIn("ok.ts", functionOf(MAX_FUNCTION_LINES)), []);
    assert.deepStrictEqual(longFunctionsIn("long.ts", functionOf(MAX_FUNCTION_LINES + 1)), [{ file: "long.ts", line: 1, lines: MAX_FUNCTION_LINES + 1, name: "long" }]);
  });

  it("leaves a declarative table alone however long it is: it is no function", () => {
    const table = `export const ROWS = [\n${'  { name: "row", required: true },\n'.repeat(MAX_FUNCTION_LINES + 10)}];\n`;
    assert.deepStrictEqual(longFunctionsIn("table.ts", table), []);
  });
});
