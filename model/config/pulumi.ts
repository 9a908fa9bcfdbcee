import * as pulumi from "@pulumi/pulumi";
import { parseStackEntries, LabConfig } from "./index";

function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Validated config of the stack being deployed; the only place the program reads raw config. */
export function loadLabConfig(): LabConfig {
  const entries: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    entries[key] = decode(value);
  }
  return parseStackEntries(entries, pulumi.getStack());
}
