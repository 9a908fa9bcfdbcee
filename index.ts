// The OptiVolt lab program: validated config in, components out, stack outputs back.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./components/config";
import { loadLabConfig } from "./components/config/pulumi";
import { deployLab, LabOutputs } from "./components/lab";
import { PreflightError, PreflightProbes, runPreflight } from "./components/preflight";

/**
 * Pulumi calls this with no argument; tests pass fake probes. Bad config or a failed preflight
 * becomes a RunError, which the CLI prints as the message alone (no stack trace).
 */
async function main(probes?: PreflightProbes): Promise<LabOutputs> {
  try {
    const config = loadLabConfig();
    // A preview creates nothing; a real update checks the engine and ports before the first resource.
    const facts = pulumi.runtime.isDryRun() ? {} : await runPreflight(config, probes);
    return deployLab(config, { swarmNodes: facts.swarmNodes });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof PreflightError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

export = main;
