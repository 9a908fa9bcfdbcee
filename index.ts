// The OptiVolt lab program: validated config in, components out, stack outputs back.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./model/config";
import { loadLabConfig } from "./model/config/pulumi";
import { deployLab } from "./components/lab";
import { PreflightError, PreflightProbes, runPreflight } from "./components/preflight";
import { LabOutputs } from "./components/stackOutputs";

/**
 * Pulumi calls this with no argument; tests pass fake probes. Bad config or a failed preflight
 * becomes a RunError, which the CLI prints as the message alone (no stack trace).
 */
async function main(probes?: PreflightProbes): Promise<LabOutputs> {
  try {
    const config = loadLabConfig();
    // The engine's platform and swap accounting shape the plan, so a preview reads them too; only an
    // update, which creates things, also checks what would collide (ports; a swarm's placement and registry).
    const facts = await runPreflight(config, probes, process.env, { deploying: !pulumi.runtime.isDryRun() });
    return deployLab(config, { engine: facts.engine, swarmNodes: facts.swarmNodes });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof PreflightError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

export = main;
