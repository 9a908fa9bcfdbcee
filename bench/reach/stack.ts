/** Reads a deployed stack's outputs through the Pulumi CLI. */
import { execFile } from "child_process";
import { BenchError } from "../errors";
import { Target, targetsFromStackOutputs } from "./targets";

export function stackTargets(stack: string): Promise<Target[]> {
  return new Promise((resolve, reject) => {
    execFile("pulumi", ["stack", "output", "--json", "--stack", stack], { timeout: 60_000, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        reject(
          new BenchError(
            missing
              ? "The Pulumi CLI is not on the PATH, so --stack cannot read the deployed variants. Install it (https://www.pulumi.com/docs/install/) or measure without Pulumi: --target name=http://127.0.0.1:PORT[,cpus=N,memoryMb=M]."
              : `\`pulumi stack output --json --stack ${stack}\` failed: ${stderr.trim() || err.message}. Check the stack name (\`pulumi stack ls\`) and that it is deployed.`,
          ),
        );
        return;
      }
      try {
        resolve(targetsFromStackOutputs(JSON.parse(stdout), stack));
      } catch (parseErr) {
        reject(parseErr instanceof BenchError ? parseErr : new BenchError(`\`pulumi stack output --json --stack ${stack}\` did not print JSON: ${(parseErr as Error).message}`));
      }
    });
  });
}
