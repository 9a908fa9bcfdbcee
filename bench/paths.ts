/**
 * Measuring paths: how the load generator reaches each variant. A path gets every ready variant
 * its generator and URL, and marks the ones it cannot measure. A third path (e.g. a Swarm node of
 * its own) implements the same interface.
 */
import { formatCpuList, planGeneratorCores } from "./cores";
import { DockerEngine } from "./docker";
import { createContainerWrkEngine } from "./engines/wrk";
import { LoadEngine } from "./engines/types";
import { BenchError } from "./errors";
import { PreparedVariant } from "./prepare";
import { MeasuringPathName } from "./schema";

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

/** Today's path: the generator on the host, sending to the published URL (docker-proxy included when the engine runs it). */
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

/**
 * The clean path: wrk runs in a container that joins the variant's network namespace and sends to
 * 127.0.0.1 inside it (no docker-proxy, no NAT), pinned to cores no measured variant may use.
 */
export function namespacePath(options: NamespacePathOptions): MeasuringPath {
  const engineInfo = { name: "wrk" as const, version: options.image };
  return {
    name: "namespace",
    summary: `namespace: wrk in a container (${options.image}) inside each variant's network namespace → 127.0.0.1, on cores of its own`,
    engine: engineInfo,
    async attach(variants) {
      if (options.docker === null) {
        throw new BenchError("--path namespace needs the local Docker engine (its socket was not found); start it, or measure through the published ports with --path published.");
      }
      const ready = measured(variants).filter((v) => {
        if (v.container === null) {
          v.result.status = "skipped";
          v.result.detail = `no container found behind ${v.result.url}, so the generator has no namespace to join; give --target ...,container=NAME or use --path published`;
          return false;
        }
        return true;
      });
      const cores = planGeneratorCores(
        options.hostCores,
        ready.map((v) => ({ name: v.result.name, cpuset: v.container?.limits.cpuset ?? "", cpus: v.result.budget.cpus ?? options.hostCores })),
      );
      for (const v of ready) {
        const container = v.container as NonNullable<PreparedVariant["container"]>;
        const port = portInside(v);
        if (port === null) {
          v.result.status = "skipped";
          v.result.detail = `${container.name} publishes no port matching ${v.result.url}, so the port inside its namespace is unknown; use --path published`;
          continue;
        }
        const plan = cores.get(v.result.name) ?? { cores: null, clash: "no core plan" };
        const cpuset = plan.cores === null ? null : formatCpuList(plan.cores);
        const engine = await createContainerWrkEngine({
          image: options.image,
          networkOf: container.id,
          cpuset,
          cores: plan.cores?.length ?? options.hostCores,
          name: `${container.name}-loadgen-${options.suffix}`,
        });
        engineInfo.version = engine.version;
        v.load = { engine, url: `http://127.0.0.1:${port}` };
        v.result.generator = { image: options.image, network: `container:${container.name}`, cpuset };
        v.result.notMeasurable = plan.clash;
        v.result.networkPath =
          `wrk in ${container.name}'s network namespace → 127.0.0.1:${port} (no docker-proxy, no NAT); ` +
          (cpuset === null ? "generator not pinned: it shares the variant's cores" : `generator on core${plan.cores?.length === 1 ? "" : "s"} ${cpuset}`) +
          (container.limits.cpuset === "" ? ", variant on any core" : `, variant on core(s) ${container.limits.cpuset}`);
      }
    },
  };
}
