/**
 * `--path swarm`: the load generator runs as a one-shot Swarm task on the node labelled
 * optivolt.role=loadgen and sends to each variant's service by name on the stack's overlay network
 * (bench/reach/swarm.ts). The stack's URLs (a node's address) only name the variants: no load goes there.
 */
import { APP_PORT, variantContainerName } from "../../model/naming";
import { LoadEngine } from "../engines/types";
import { MeasuringPath } from "./paths";
import { PreparedVariant } from "./prepare";
import { runSwarmWrk, SwarmLoadOptions } from "./swarm";

/** Why prepareVariant refuses a URL off loopback: the host would send load there, which this path never does. */
const OFF_LOOPBACK = /^refusing to send load to /;

export interface SwarmPathOptions {
  /** The manager's engine (docker:host). */
  host: string;
  /** The stack's overlay network; each variant's service is `<network>-<variant>` on it. */
  network: string;
  image: string;
}

/** One line saying where both sides of a run were. */
export function swarmNetworkPath(service: string, network: string, generatorNode: string, targetNodes: readonly string[]): string {
  return `wrk as a Swarm task on ${generatorNode} (optivolt.role=loadgen) → ${service}:${APP_PORT} on overlay ${network}; variant's task(s) on ${targetNodes.join(", ")}`;
}

export function swarmPath(options: SwarmPathOptions): MeasuringPath {
  const load: SwarmLoadOptions = { dockerHost: options.host, network: options.network, image: options.image };
  return {
    name: "swarm",
    summary: `swarm: wrk (${options.image}) as a one-shot task on the optivolt.role=loadgen node → each variant's service on overlay ${options.network} (manager ${options.host})`,
    engine: { name: "wrk", version: options.image },
    async attach(variants: readonly PreparedVariant[]) {
      for (const v of variants) {
        if (v.result.status === "refused" && OFF_LOOPBACK.test(v.result.detail ?? "")) {
          v.result.status = "measured";
          v.result.detail = null;
        }
        if (v.result.status !== "measured") continue;
        const service = variantContainerName({ networkName: options.network }, v.result.name);
        // Each run records where it ran: the generator's node is known once its task is placed.
        const engine: LoadEngine = {
          name: "wrk",
          version: options.image,
          run: async (request) => {
            const outcome = await runSwarmWrk(load, request);
            v.result.generator = { image: options.image, network: `${options.network} (overlay), node ${outcome.generatorNode}`, cpuset: null };
            v.result.networkPath = swarmNetworkPath(service, options.network, outcome.generatorNode, outcome.targetNodes);
            return outcome;
          },
        };
        v.load = { engine, url: `http://${service}:${APP_PORT}` };
        v.result.networkPath = `wrk as a Swarm task on an optivolt.role=loadgen node → ${service}:${APP_PORT} on overlay ${options.network}`;
      }
    },
  };
}
