// QUICKSTART.md's commands against the stack files: a block that works on a stack names that stack
// on every command that takes one, and its URLs use that stack's ports.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../../model/config";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const quickstart = fs.readFileSync(path.join(PROJECT_DIR, "QUICKSTART.md"), "utf8");
const blocks = [...quickstart.matchAll(/```bash\n([^]*?)```/g)].map((m) => m[1]);

/** The stack a block works on: the one its commands name (`--stack X`, `lab:up -- X`), dev when none does. */
function stackOf(block: string): string {
  const named = new Set([...block.matchAll(/--stack (\w+)|lab:(?:up|down) -- (\w+)/g)].map((m) => m[1] ?? m[2]));
  assert.ok(named.size <= 1, `a block names several stacks (${[...named].join(", ")}):\n${block}`);
  return [...named][0] ?? "dev";
}

function portsOf(stack: string): number[] {
  const config = loadStackConfig(stack);
  const { prometheus, cadvisor, grafana } = config.monitoring;
  return [...Object.values(config.variants).map((v) => v.hostPort), prometheus.port, cadvisor.port, grafana.port];
}

describe("QUICKSTART.md", () => {
  it("shows the ci stack, with its own ports", () => {
    assert.ok(blocks.some((b) => stackOf(b) === "ci" && /127\.0\.0\.1:18003/.test(b)), "no block looks at the ci stack");
  });

  for (const [index, block] of blocks.entries()) {
    const stack = stackOf(block);
    it(`block ${index + 1} (${stack}): every URL is a port of ${stack}, every stack command names it`, () => {
      for (const [, port] of block.matchAll(/127\.0\.0\.1:(\d+)/g)) {
        assert.ok(portsOf(stack).includes(Number(port)), `port ${port} is not one of the ${stack} stack's:\n${block}`);
      }
      for (const line of block.split("\n")) {
        // Commands that act on one stack: the CLI's stack commands, the bench, lab:down.
        // `bench --target` names its server itself (the no-Pulumi path): no stack.
        if (/^(pulumi (stack output|config set|up|preview|destroy)|npm run bench)\b/.test(line) && !line.includes("--target")) {
          assert.match(line, new RegExp(`--stack ${stack}\\b`), `names no stack: ${line}`);
        }
      }
    });
  }
});
