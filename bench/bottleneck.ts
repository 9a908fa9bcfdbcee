/** Decides which side limited a run, so client-bound figures are not reported as the server's (pure). */
import { Bottleneck } from "./schema";

export interface BottleneckInput {
  durationSeconds: number;
  serverCpuSeconds: number | null;
  budgetCpus: number | null;
  clientCpuSeconds: number;
  clientCores: number;
  /** Busy fraction of all host cores, 0..1. */
  hostBusy: number | null;
  hostCores: number;
  proxyCpuSeconds: number | null;
}

/** A quota counts as used up from 85 %: CFS throttling keeps averages a little below the limit. */
export const SERVER_SATURATED = 0.85;
/** A generator thread at 85 % of a core is the one waiting on itself. */
export const CLIENT_SATURATED = 0.85;
/** All host cores at least this busy: client and server compete for the machine. */
export const HOST_SATURATED = 0.95;


const pct = (x: number) => `${Math.round(x * 100)} %`;

export function classifyBottleneck(input: BottleneckInput): { verdict: Bottleneck; reason: string } {
  if (input.durationSeconds <= 0) return { verdict: "unknown", reason: "no measured time" };
  const client = input.clientCpuSeconds / input.durationSeconds / input.clientCores;
  const clientText = `load generator at ${pct(client)} of its ${input.clientCores} core(s)`;
  if (input.serverCpuSeconds === null || input.budgetCpus === null) {
    if (client >= CLIENT_SATURATED) return { verdict: "client", reason: `${clientText}; server CPU unknown` };
    return { verdict: "unknown", reason: "no container CPU figures" };
  }
  const server = input.serverCpuSeconds / input.durationSeconds / input.budgetCpus;
  const serverText = `server at ${pct(server)} of its ${input.budgetCpus} CPU budget`;
  if (server >= SERVER_SATURATED) return { verdict: "server", reason: serverText };
  if (client >= CLIENT_SATURATED) return { verdict: "client", reason: `${clientText} while ${serverText}` };
  if (input.hostBusy !== null && input.hostBusy >= HOST_SATURATED) {
    const busy = input.hostBusy * input.hostCores * input.durationSeconds;
    const others = Math.max(0, busy - input.serverCpuSeconds - input.clientCpuSeconds - (input.proxyCpuSeconds ?? 0));
    const proxy = input.proxyCpuSeconds === null ? "" : `, docker-proxy ${(input.proxyCpuSeconds / input.durationSeconds).toFixed(2)} cores`;
    return {
      verdict: "host",
      reason:
        `host CPUs ${pct(input.hostBusy)} busy while ${serverText}, load generator ${(input.clientCpuSeconds / input.durationSeconds).toFixed(2)} cores${proxy}, ` +
        `other processes ${(others / input.durationSeconds).toFixed(2)} cores: they all share the host's cores`,
    };
  }
  return { verdict: "unsaturated", reason: `${serverText}, ${clientText}: throughput set by concurrency and latency` };
}
