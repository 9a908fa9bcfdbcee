/** Decides which side limited a run, so client-bound figures are not reported as the server's (pure). */
import { Bottleneck } from "../schema";

export interface BottleneckInput {
  durationSeconds: number;
  serverCpuSeconds: number | null;
  budgetCpus: number | null;
  clientCpuSeconds: number;
  clientCores: number;
  /** Busy fraction of all host cores, 0..1. */
  hostBusy: number | null;
  hostInterrupts: number | null;
  hostCores: number;
  proxyCpuSeconds: number | null;
}

/** A quota counts as used up from 85 %: CFS throttling keeps averages a little below the limit. */
export const SERVER_SATURATED = 0.85;
/** A generator thread at 85 % of a core is the one waiting on itself. */
export const CLIENT_SATURATED = 0.85;
/** All host cores at least this busy: client and server compete for the machine. */
export const HOST_SATURATED = 0.95;

/**
 * Cores used on average by everything that is neither the server, the load generator, the
 * docker-proxy nor interrupt handling: other work on a shared machine (and this bench's own small
 * share); null without host or server figures.
 */
export function otherProcessesCores(input: Omit<BottleneckInput, "budgetCpus" | "clientCores">): number | null {
  if (input.hostBusy === null || input.serverCpuSeconds === null || input.durationSeconds <= 0) return null;
  const busy = (input.hostBusy - (input.hostInterrupts ?? 0)) * input.hostCores * input.durationSeconds;
  return Math.max(0, busy - input.serverCpuSeconds - input.clientCpuSeconds - (input.proxyCpuSeconds ?? 0)) / input.durationSeconds;
}

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
    const proxy = input.proxyCpuSeconds === null ? "" : `, docker-proxy ${(input.proxyCpuSeconds / input.durationSeconds).toFixed(2)} cores`;
    const interrupts = input.hostInterrupts === null ? "" : `, kernel interrupts ${(input.hostInterrupts * input.hostCores).toFixed(2)} cores`;
    return {
      verdict: "host",
      reason:
        `host CPUs ${pct(input.hostBusy)} busy while ${serverText}, load generator ${(input.clientCpuSeconds / input.durationSeconds).toFixed(2)} cores${proxy}${interrupts}, ` +
        `other processes ${(otherProcessesCores(input) ?? 0).toFixed(2)} cores: they all share the host's cores`,
    };
  }
  return { verdict: "unsaturated", reason: `${serverText}, ${clientText}: throughput set by concurrency and latency` };
}
