import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";

/** Runs Debian's `promtool` on a file holding `content`; resolves with its exit status and output. */
export function promtool(command: "config" | "rules", content: string): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovtest-monitoring-promtool-"));
  try {
    const file = path.join(dir, command === "config" ? "prometheus.yml" : "rules.yml");
    fs.writeFileSync(file, content);
    const result = spawnSync("promtool", ["check", command, file], { encoding: "utf8", timeout: 30_000 });
    if (result.error) {
      throw new Error(`promtool could not run (${result.error.message}); install it with \`apt-get install prometheus\` (what .ci/run does)`);
    }
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A rules file with one recording rule per expression: `promtool check rules` then parses every one as PromQL. */
export function recordingRules(expressions: readonly string[]): string {
  return stringify({
    groups: [{ name: "dashboard", rules: expressions.map((expr, index) => ({ record: `optivolt:panel_query_${index}`, expr })) }],
  });
}
