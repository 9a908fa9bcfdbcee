import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { IMAGE_TARGETS, RUNTIMES } from "../../model/config";
import { dockerfileTarget } from "../../model/naming";

/** images/Dockerfile cut into its stages: name → the FROM line and the instructions under it. */
function stages(): Map<string, { from: string; lines: string[] }> {
  const text = fs.readFileSync(path.resolve(__dirname, "..", "..", "images", "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const result = new Map<string, { from: string; lines: string[] }>();
  let current: { from: string; lines: string[] } | undefined;
  for (const line of text.split("\n").map((l) => l.trim())) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    if (from) result.set(from[2], (current = { from: from[1], lines: [] }));
    else if (current && line !== "" && !line.startsWith("#")) current.lines.push(line);
  }
  return result;
}

/** The stage's instructions, following `FROM <earlier stage>` back to its first stage. */
function effective(all: ReturnType<typeof stages>, name: string): { base: string; lines: string[] } {
  const stage = all.get(name);
  assert.ok(stage, `no stage ${name}`);
  if (!all.has(stage.from)) return { base: stage.from, lines: stage.lines };
  const parent = effective(all, stage.from);
  return { base: parent.base, lines: [...parent.lines, ...stage.lines] };
}

describe("images/Dockerfile: a target for every (image target, runtime) the config accepts", () => {
  const all = stages();

  for (const runtime of RUNTIMES) {
    for (const target of IMAGE_TARGETS) {
      const stage = dockerfileTarget({ target, runtime });
      it(`${stage} runs ${runtime} on the ${runtime} bases, as uid 1000`, () => {
        const { base, lines } = effective(all, stage);
        const bases = runtime === "node" ? /^\$\{NODE_(MINIMAL_)?IMAGE\}$/ : /^\$\{BUN_(MINIMAL_)?IMAGE\}$/;
        assert.match(base, bases);
        assert.strictEqual(base.includes("MINIMAL"), target === "minimal", "only minimal uses the minimal base");
        const cmd = lines.filter((l) => l.startsWith("CMD ")).at(-1) ?? "";
        const entry = runtime === "node" ? "dist/server.js" : "dist/bun-server.js";
        assert.match(cmd, new RegExp(`^CMD \\["${runtime}",.*"${entry.replace(".", "\\.")}"\\]$`));
        assert.ok(lines.includes("USER 1000:1000"), "not root");
        // The minimal bases have no shell: a RUN there would fail the build.
        if (target === "minimal") assert.ok(!lines.some((l) => l.startsWith("RUN ")), "RUN in a minimal stage");
        for (const check of lines.filter((l) => l.startsWith("HEALTHCHECK "))) {
          assert.match(check, new RegExp(`CMD \\["${runtime}", "-e",`), "the health check must use the image's own runtime");
        }
      });
    }
  }

  it("the Bun bases default to public oven/bun tags and are build args like the Node ones", () => {
    const text = fs.readFileSync(path.resolve(__dirname, "..", "..", "images", "Dockerfile"), "utf8");
    assert.match(text, /^ARG BUN_IMAGE=oven\/bun:1-debian$/m);
    assert.match(text, /^ARG BUN_MINIMAL_IMAGE=oven\/bun:1-distroless$/m);
  });
});
