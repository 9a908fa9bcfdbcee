/**
 * Measuring paths: how the load generator reaches each variant. A path gets every ready variant
 * its generator and URL, and marks the ones it cannot measure. A third path (e.g. a Swarm node of
 * its own) implements the same interface.
 */
import { allowedCores, formatCpuList, planGeneratorCores } from "./cores";
import { DockerEngine } from "../counters/docker";
import { createContainerWrkEngine } from "../engines/wrk";
import { LoadEngine } from "../engines/types";
import { BenchError } from "../errors";
import { describeQemuPath, PreparedVariant } from "./prepare";
import { MeasuringPathName } from "../schema";

export interface MeasuringPath {
  name: MeasuringPathName;
  /** One line for the plan header and the report. */
  summary: string;
  /** Load engine name and version, for the provenance. */
  engine: { name: LoadEngine["name"]; version: string };
  /** Gives each measured variant its `load`; variants it cannot measure get a status and a reason. */
  attach(variants: readonly PreparedVariant[]): Promise<void>;
}

const measured = (variants: readonly PreparedVariant[]) => variants.filter((v) => v.result.status === "measured");

/** The generator on the host, sending to the published URL (docker-proxy included when the engine runs it; a QEMU variant's forwarded port). */
export function publishedPath(engine: LoadEngine): MeasuringPath {
  return {
    name: "published",
    summary: `published: ${engine.name} on the host → each variant's published URL (through docker-proxy when the engine uses it)`,
    engine: { name: engine.name, version: engine.version },
    async attach(variants) {
      for (const v of measured(variants)) v.load = { engine, url: v.result.url as string };
    },
  };
}

/** The port the app listens on inside the container, for a URL that names its published port. */
export function portInside(variant: PreparedVariant): number | null {
  const c = variant.container;
  if (c === null || variant.result.url === null) return null;
  const hostPort = Number(new URL(variant.result.url).port || 80);
  if (c.limits.networkMode === "host") return hostPort;
  return c.ports.find((p) => p.hostPort === hostPort)?.containerPort ?? null;
}

export interface NamespacePathOptions {
  docker: DockerEngine | null;
  image: string;
  hostCores: number;
  /** Generator container names are `<variant container>-loadgen-<suffix>`. */
  suffix: string;
}

/** Where one variant's generator container goes and what it sends to; a string says why it cannot. */
interface Placement {
  /** `--network` of the generator container. */
  network: string;
  /** The same for people and results.json (the container's name, not its id). */
  networkLabel: string;
  url: string;
  /** Generator container name, before the suffix. */
  name: string;
  /** The network path after the generator's own part. */
  path: string;
  /** Cores the variant may run on ("" = any). */
  cpuset: string;
  /** How to pin the variant when it leaves the generator no core (default: the stack's cpuset). */
  remedy?: string;
}

/** The generator on the host's network, sending to the variant's own URL. */
function onHostNetwork(v: PreparedVariant): Pick<Placement, "network" | "networkLabel" | "url" | "name"> {
  return { network: "host", networkLabel: "host", url: v.result.url as string, name: `optivolt-bench-${v.result.name}` };
}

/**
 * A container: the generator joins its namespace. A QEMU variant has no namespace to join (its
 * network is slirp inside the QEMU process): the generator sends to the port QEMU forwards, from
 * the host's network.
 */
function placementOf(v: PreparedVariant): Placement | string {
  if (v.qemu !== null) {
    const url = v.result.url as string;
    return {
      ...onHostNetwork(v),
      path: `wrk on the host network → ${describeQemuPath(url, v.qemu.pid)}`,
      cpuset: v.qemu.cpuset,
      remedy: `Pin QEMU's threads to cores that leave one free (e.g. \`taskset -a -pc 0 ${v.qemu.pid}\` on a 2-core machine)`,
    };
  }
  const container = v.container;
  if (container === null) {
    // A server that is not a container (a process on the host): no namespace to join, but the host
    // network reaches it directly, so it is measured there and the path says so.
    return {
      ...onHostNetwork(v),
      path: `direct: wrk on the host network → ${v.result.url} (no container behind it, so no namespace to join; no docker-proxy)`,
      cpuset: "",
    };
  }
  const port = portInside(v);
  if (port === null) return `${container.name} publishes no port matching ${v.result.url}, so the port inside its namespace is unknown; use --path published`;
  return {
    network: `container:${container.id}`,
    networkLabel: `container:${container.name}`,
    url: `http://127.0.0.1:${port}`,
    name: container.name,
    path: `wrk in ${container.name}'s network namespace → 127.0.0.1:${port} (no docker-proxy, no NAT)`,
    cpuset: container.limits.cpuset,
  };
}

/**
 * The clean path: wrk runs in a container that joins the variant's network namespace and sends to
 * 127.0.0.1 inside it (no docker-proxy, no NAT), pinned to cores no measured variant may use.
 * QEMU variants get the same generator on the host network, to their forwarded port.
 */
export function namespacePath(options: NamespacePathOptions): MeasuringPath {
  const engineInfo = { name: "wrk" as const, version: options.image };
  return {
    name: "namespace",
    summary:
      `namespace: wrk in a container (${options.image}) inside each variant's network namespace → 127.0.0.1, on cores of its own ` +
      "(a QEMU variant: on the host network → its forwarded port, the qemu user-net forward; a server that is no container: on the host network → its URL, direct)",
    engine: engineInfo,
    async attach(variants) {
      if (options.docker === null) {
        throw new BenchError("--path namespace needs the local Docker engine (its socket was not found); start it, or measure through the published ports with --path published.");
      }
      const placed: { v: PreparedVariant; placement: Placement }[] = [];
      for (const v of measured(variants)) {
        const placement = placementOf(v);
        if (typeof placement === "string") {
          v.result.status = "skipped";
          v.result.detail = placement;
        } else {
          placed.push({ v, placement });
        }
      }
      const cores = planGeneratorCores(
        options.hostCores,
        placed.map(({ v, placement }) => ({ name: v.result.name, cpuset: placement.cpuset, cpus: v.result.budget.cpus ?? options.hostCores, remedy: placement.remedy })),
      );
      for (const { v, placement } of placed) {
        const plan = cores.get(v.result.name) ?? { cores: null, clash: "no core plan" };
        const cpuset = plan.cores === null ? null : formatCpuList(plan.cores);
        const engine = await createContainerWrkEngine({
          image: options.image,
          network: placement.network,
          cpuset,
          cores: plan.cores?.length ?? options.hostCores,
          name: `${placement.name}-loadgen-${options.suffix}`,
        });
        engineInfo.version = engine.version;
        v.load = { engine, url: placement.url };
        v.result.generator = { image: options.image, network: placement.networkLabel, cpuset };
        v.result.notMeasurable = plan.clash;
        const anyCore = allowedCores(placement.cpuset, options.hostCores).length === options.hostCores;
        v.result.networkPath =
          `${placement.path}; ` +
          (cpuset === null ? "generator not pinned: it shares the variant's cores" : `generator on core${plan.cores?.length === 1 ? "" : "s"} ${cpuset}`) +
          (anyCore ? ", variant on any core" : `, variant on core(s) ${placement.cpuset}`);
      }
    },
  };
}
