import { LoadEngineName, RunResult } from "../schema";

export interface LoadRequest {
  url: string;
  connections: number;
  threads: number;
  durationSeconds: number;
  timeoutSeconds: number;
  /** Requests sent back to back on each connection before reading (HTTP pipelining); 1 when omitted. */
  pipeline?: number;
  /** Aborting ends the run early; the engine still returns what it measured. */
  signal: AbortSignal;
}

/** What one load run measured on the client side. */
export interface LoadOutcome {
  durationSeconds: number;
  responses: number;
  bytes: number;
  latencyMs: RunResult["latencyMs"];
  errors: RunResult["errors"];
  clientCpuSeconds: number;
  clientCores: number;
  partial: boolean;
}

export interface LoadEngine {
  name: LoadEngineName;
  version: string;
  run(request: LoadRequest): Promise<LoadOutcome>;
}
