/**
 * `npm run dashboards:render -- [--stack dev] [--out DIR]`: writes the Prometheus config, Grafana
 * provisioning and dashboard JSON the Monitoring component would upload, for inspection or for
 * importing the dashboard into another Grafana.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError, loadStackConfig } from "../model/config";
import { commandLine, parseOrExitCode } from "../tooling/commandLine";
import { monitoringFiles } from "./provisioning";

const program = commandLine("dashboards:render")
  .description("Render the monitoring configuration files from a stack's config")
  .option("--stack <name>", "stack whose Pulumi.<name>.yaml to read", "dev")
  .option("--out <dir>", "directory to write into (container paths are kept below it)", "bin/dashboards");
// Exit 1 on a bad command line, as commander's own default did.
const exitCode = parseOrExitCode(program, process.argv.slice(2), 1);
if (exitCode !== null) process.exit(exitCode);

const options = program.opts<{ stack: string; out: string }>();
try {
  const files = monitoringFiles(loadStackConfig(options.stack));
  for (const [service, list] of Object.entries(files)) {
    for (const { file, content } of list) {
      const target = path.join(options.out, service, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
      console.log(target);
    }
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `dashboards:render failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}
