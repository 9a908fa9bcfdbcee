// The swarm stack's resources as the program declares them: Pulumi.swarm.yaml run under mocks
// (the inputs the Docker provider would receive), aimed at the suite's own lab.
import { RecordedResource, runLabUnderMocks, stackEntries } from "../../../policy/offline/mockedLab";
import { nodeAddress, SwarmLab } from "./swarmLab";

type Inputs = Record<string, any>;

/** Prometheus from Debian, built by images:base: no public image can be pulled here. */
export const LOCAL_PROMETHEUS_IMAGE = "optivolt/swarm-lab-prometheus:bookworm";

export interface DeclaredLab {
  /** The lab's attachable overlay network (`mockId`: the ID services' inputs refer to it by). */
  network: Inputs;
  /** The registry service (one task on a manager, port published there). */
  registry: Inputs;
  /** Prometheus with dockerswarm_sd_configs, on a manager, and the Swarm configs it mounts. */
  prometheus: Inputs;
  prometheusConfigs: Inputs[];
  /** variant → its service (the image is the mocked digest until the suite pushes the real one). */
  variants: Record<string, Inputs>;
  /** variant → the registry image name its docker.Image pushes (`host:port/optivolt-webapi:target`). */
  images: Record<string, string>;
  /** variant → Dockerfile target. */
  targets: Record<string, string>;
  /** The variant the suite rolls to a new image (two tasks, one per lab node). */
  rollingVariant: string;
}

const ROLLING_VARIANT = "minimal";

function only(resources: RecordedResource[], what: string, match: (r: RecordedResource) => boolean): RecordedResource {
  const found = resources.filter(match);
  if (found.length !== 1) throw new Error(`expected one ${what} in the swarm stack's graph, found ${found.length}`);
  return found[0];
}

/**
 * The registry service as the provider creates it here: its RemoteImage finds the image local to the
 * manager, never pulled, so its repo digest is "" (determineRepoDigest) and the program runs it by name.
 */
function registryAsDeployed(registry: Inputs, resources: RecordedResource[]): Inputs {
  const image = only(resources, "registry image", (r) => r.type === "docker:index/remoteImage:RemoteImage" && r.parent?.type === "optivolt:lab:Registry");
  return { ...registry, taskSpec: { ...registry.taskSpec, containerSpec: { ...registry.taskSpec.containerSpec, image: image.inputs.name } } };
}

/**
 * Runs the program with Pulumi.swarm.yaml under mocks, pointed at this lab: its names, its manager
 * as registry and endpoint host, and budgets scaled so that reservations (equal to limits) fit the
 * two 2-CPU lab nodes with Prometheus and the registry on the manager, and two tasks of the rolled
 * variant (a host-mode port allows one task per node).
 */
export async function declaredSwarmLab(lab: SwarmLab): Promise<DeclaredLab> {
  const manager = nodeAddress(lab, "manager");
  const stackSwarm = stackEntries("swarm")["optivolt:swarm"] as Inputs;
  const variants = {
    standard: { target: "standard", cpus: 1, memoryMb: 512, hostPort: 28001 },
    microvm: { target: "microvm", cpus: 0.5, memoryMb: 256, hostPort: 28002 },
    minimal: { target: "minimal", cpus: 0.25, memoryMb: 128, hostPort: 28003 },
  };
  const run = await runLabUnderMocks("swarm", {
    "docker:host": lab.dockerHost,
    "optivolt:networkName": lab.name,
    "optivolt:endpointHost": manager,
    "optivolt:swarm": { ...stackSwarm, registry: { ...stackSwarm.registry, address: `${manager}:5000` }, variants: { [ROLLING_VARIANT]: { replicas: 2 } } },
    "optivolt:variants": variants,
  });
  const { resources } = run;
  const network = only(resources, "network", (r) => r.type === "docker:index/network:Network");
  const service = (parentType: string, name?: string) =>
    only(resources, `${parentType} service`, (r) => r.type === "docker:index/service:Service" && r.parent?.type === parentType && (name === undefined || r.name === name));
  const prometheus = service("optivolt:lab:SwarmMonitoring", "monitoring-prometheus");
  const configIds = new Set((prometheus.inputs.taskSpec.containerSpec.configs ?? []).map((c: Inputs) => c.configId));
  const variantServices: Record<string, Inputs> = {};
  const images: Record<string, string> = {};
  for (const variant of Object.keys(variants)) {
    variantServices[variant] = service("optivolt:lab:WebApiService", variant).inputs;
    images[variant] = only(resources, `${variant} image`, (r) => r.type === "docker:index/image:Image" && r.name === variant).inputs.imageName;
  }
  return {
    network: { ...network.inputs, mockId: `${network.name}-id` },
    registry: registryAsDeployed(service("optivolt:lab:Registry").inputs, resources),
    prometheus: prometheus.inputs,
    prometheusConfigs: resources.filter((r) => r.type === "docker:index/serviceConfig:ServiceConfig" && configIds.has(`${r.name}-id`)).map((r) => ({ ...r.inputs, mockId: `${r.name}-id` })),
    variants: variantServices,
    images,
    targets: Object.fromEntries(Object.entries(variants).map(([name, spec]) => [name, spec.target])),
    rollingVariant: ROLLING_VARIANT,
  };
}
