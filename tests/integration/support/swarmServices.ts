// Creates `docker.Service` resources on a real swarm from their Pulumi inputs, the way the Docker
// provider does (engine API `POST /services/create` with the spec its inputs map to), since the
// Pulumi CLI cannot run here. Only the fields the lab's program sets are mapped. IDs the inputs
// hold (a network's, a config's) are the mocks'; `ids` maps them to the real ones.
import { managerApi, SwarmLab } from "./swarmLab";

type Inputs = Record<string, any>;

/** Go duration strings as the provider takes them ("10s", "1m30s", "500ms") in nanoseconds. */
export function goDurationNs(duration: string | undefined): number | undefined {
  if (duration === undefined) return undefined;
  const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, ns: 1 };
  let total = 0;
  let rest = duration;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/.exec(rest);
    if (!match) throw new Error(`not a Go duration: ${duration}`);
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return Math.round(total);
}

/**
 * A duration in nanoseconds as the provider reads it back: Go's time.Duration.String(), then shortDur
 * drops a trailing "0s" after minutes and "0m" after hours (terraform-provider-docker v4.5.0,
 * internal/provider/resource_docker_service_structures.go).
 */
export function shortDur(ns: number): string {
  let text: string;
  if (ns === 0) text = "0s";
  else if (ns < 1e9) text = ns >= 1e6 ? `${ns / 1e6}ms` : ns >= 1e3 ? `${ns / 1e3}µs` : `${ns}ns`;
  else {
    const hours = Math.floor(ns / 3600e9);
    const minutes = Math.floor((ns % 3600e9) / 60e9);
    const seconds = (ns % 60e9) / 1e9;
    text = `${hours > 0 ? `${hours}h` : ""}${hours > 0 || minutes > 0 ? `${minutes}m` : ""}${seconds}s`;
  }
  if (text.endsWith("m0s")) text = text.slice(0, -2);
  if (text.endsWith("h0m")) text = text.slice(0, -2);
  return text;
}

function labelMap(labels: { label: string; value: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));
}

function resources(r: Inputs | undefined): Inputs | undefined {
  return r === undefined ? undefined : { NanoCPUs: r.nanoCpus, MemoryBytes: r.memoryBytes };
}

function updatePolicy(u: Inputs | undefined): Inputs | undefined {
  if (u === undefined) return undefined;
  return {
    Parallelism: u.parallelism,
    Delay: goDurationNs(u.delay),
    FailureAction: u.failureAction,
    Monitor: goDurationNs(u.monitor),
    MaxFailureRatio: u.maxFailureRatio === undefined ? undefined : Number(u.maxFailureRatio),
    Order: u.order,
  };
}

/** Mock ID → real ID of the resources created so far. */
export type CreatedIds = Map<string, string>;

function realId(ids: CreatedIds, id: string): string {
  const real = ids.get(id);
  if (real === undefined) throw new Error(`the service refers to ${id}, which the suite has not created`);
  return real;
}

/** The engine's ServiceSpec for a `docker:index/service:Service`'s inputs. */
export function serviceSpec(inputs: Inputs, ids: CreatedIds = new Map()): Inputs {
  const task = inputs.taskSpec;
  const container = task.containerSpec;
  const health = container.healthcheck;
  return {
    Name: inputs.name,
    Labels: labelMap(inputs.labels),
    TaskTemplate: {
      ContainerSpec: {
        Image: container.image,
        Labels: labelMap(container.labels),
        Command: container.commands,
        Args: container.args,
        Env: container.env === undefined ? undefined : Object.entries(container.env as Record<string, string>).map(([k, v]) => `${k}=${v}`),
        User: container.user,
        Configs: (container.configs ?? []).map((c: Inputs) => ({
          ConfigID: realId(ids, c.configId),
          ConfigName: c.configName,
          File: { Name: c.fileName, UID: c.fileUid ?? "0", GID: c.fileGid ?? "0", Mode: c.fileMode ?? 0o444 },
        })),
        Mounts: (container.mounts ?? []).map((m: Inputs) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
        StopSignal: container.stopSignal,
        StopGracePeriod: goDurationNs(container.stopGracePeriod),
        Healthcheck:
          health === undefined
            ? undefined
            : {
                Test: health.tests,
                Interval: goDurationNs(health.interval),
                Timeout: goDurationNs(health.timeout),
                StartPeriod: goDurationNs(health.startPeriod),
                Retries: health.retries,
              },
      },
      // The provider's field is `reservation` (singular).
      Resources: task.resources === undefined ? undefined : { Limits: resources(task.resources.limits), Reservations: resources(task.resources.reservation) },
      RestartPolicy:
        task.restartPolicy === undefined
          ? undefined
          : // createRestartPolicy sends every field, an unset one as its zero value.
            {
              Condition: task.restartPolicy.condition ?? "",
              Delay: goDurationNs(task.restartPolicy.delay) ?? 0,
              MaxAttempts: task.restartPolicy.maxAttempts ?? 0,
              Window: goDurationNs(task.restartPolicy.window) ?? 0,
            },
      Placement:
        task.placement === undefined
          ? undefined
          : {
              Constraints: task.placement.constraints,
              MaxReplicas: task.placement.maxReplicas,
              Platforms: (task.placement.platforms ?? []).map((p: Inputs) => ({ OS: p.os, Architecture: p.architecture })),
            },
      Networks: (task.networksAdvanceds ?? []).map((n: Inputs) => ({ Target: n.id === undefined ? n.name : realId(ids, n.id), Aliases: n.aliases })),
      LogDriver: task.logDriver === undefined ? undefined : { Name: task.logDriver.name, Options: task.logDriver.options },
    },
    Mode: inputs.mode?.global ? { Global: {} } : { Replicated: { Replicas: inputs.mode?.replicated?.replicas ?? 1 } },
    UpdateConfig: updatePolicy(inputs.updateConfig),
    RollbackConfig: updatePolicy(inputs.rollbackConfig),
    EndpointSpec:
      inputs.endpointSpec === undefined
        ? undefined
        : {
            Mode: inputs.endpointSpec.mode,
            Ports: (inputs.endpointSpec.ports ?? []).map((p: Inputs) => ({
              Name: p.name,
              Protocol: p.protocol ?? "tcp",
              TargetPort: p.targetPort,
              PublishedPort: p.publishedPort,
              PublishMode: p.publishMode ?? "ingress",
            })),
          },
  };
}

interface DistributionInspect {
  Descriptor: { digest: string };
  Platforms?: { os: string; architecture: string }[];
}

/**
 * What the Docker client does to a spec before `POST /services/create` when the provider sets
 * QueryRegistry (moby client/service_create.go): asks the engine for the image's registry entry;
 * when the registry answers, an image not named by digest gets `@<digest>` and placement.platforms
 * gets the image's platforms (`arm` cleared). An image no registry knows is left as it is.
 */
async function queryRegistry(lab: Pick<SwarmLab, "socket">, spec: Inputs): Promise<Inputs> {
  const image = spec.TaskTemplate.ContainerSpec.Image as string;
  let entry: DistributionInspect;
  try {
    entry = await managerApi<DistributionInspect>(lab, "GET", `/distribution/${image}/json`);
  } catch {
    return spec;
  }
  const canonical = /@sha256:[0-9a-f]{64}$/.test(image);
  const platforms = (entry.Platforms ?? []).map((p) => ({ OS: p.os, Architecture: p.architecture.toLowerCase() === "arm" ? "" : p.architecture }));
  const task = spec.TaskTemplate;
  return {
    ...spec,
    TaskTemplate: {
      ...task,
      ContainerSpec: { ...task.ContainerSpec, Image: canonical ? image : `${image}@${entry.Descriptor.digest}` },
      Placement: platforms.length > 0 ? { ...(task.Placement ?? {}), Platforms: platforms } : task.Placement,
    },
  };
}

/** Creates the service on the lab's manager as the provider does (ServiceCreate with QueryRegistry); resolves with its ID. */
export async function createService(lab: Pick<SwarmLab, "socket">, inputs: Inputs, ids: CreatedIds): Promise<string> {
  return (await managerApi<{ ID: string }>(lab, "POST", "/services/create", await queryRegistry(lab, serviceSpec(inputs, ids)))).ID;
}

/**
 * Where the provider's read of the service (flattenTaskSpec) differs from the inputs it was created
 * from, in the fields that are not Computed: each would be a diff, an update and a wait for
 * convergence on the next `up` with no change. One message per difference.
 */
export async function readBackDiffs(lab: Pick<SwarmLab, "socket">, inputs: Inputs): Promise<string[]> {
  const read = (await managerApi<{ Spec: Inputs }>(lab, "GET", `/services/${inputs.name}`)).Spec.TaskTemplate;
  const task = inputs.taskSpec;
  const diffs: string[] = [];
  const compare = (key: string, declared: unknown, readBack: unknown) => {
    if (JSON.stringify(declared) !== JSON.stringify(readBack)) diffs.push(`${key}: declared ${JSON.stringify(declared)}, read back ${JSON.stringify(readBack)}`);
  };
  compare("image", task.containerSpec.image, read.ContainerSpec.Image);
  const platforms = (list: { os: string; architecture: string }[]) => list.map((p) => `${p.os}/${p.architecture}`).sort();
  compare(
    "placement.platforms",
    platforms(task.placement?.platforms ?? []),
    platforms((read.Placement?.Platforms ?? []).map((p: Inputs) => ({ os: p.OS, architecture: p.Architecture }))),
  );
  if (task.restartPolicy !== undefined) {
    const policy = read.RestartPolicy ?? {};
    compare("restartPolicy.condition", task.restartPolicy.condition, policy.Condition);
    compare("restartPolicy.delay", task.restartPolicy.delay, policy.Delay === undefined ? undefined : shortDur(policy.Delay));
    compare("restartPolicy.window", task.restartPolicy.window, policy.Window === undefined ? undefined : shortDur(policy.Window));
  }
  const container = read.ContainerSpec;
  if (task.containerSpec.stopGracePeriod !== undefined) compare("stopGracePeriod", task.containerSpec.stopGracePeriod, shortDur(container.StopGracePeriod ?? 0));
  return diffs;
}

/** Creates a `docker:index/network:Network` (overlay) on the lab's manager and records its ID. */
export async function createNetwork(lab: Pick<SwarmLab, "socket">, inputs: Inputs, mockId: string, ids: CreatedIds): Promise<void> {
  const body = { Name: inputs.name, Driver: inputs.driver, Attachable: inputs.attachable, Labels: labelMap(inputs.labels), CheckDuplicate: true };
  ids.set(mockId, (await managerApi<{ Id: string }>(lab, "POST", "/networks/create", body)).Id);
}

/** Creates a `docker:index/serviceConfig:ServiceConfig` (its `dataRaw`) and records its ID. */
export async function createConfig(lab: Pick<SwarmLab, "socket">, inputs: Inputs, mockId: string, ids: CreatedIds): Promise<void> {
  const body = { Name: inputs.name, Data: Buffer.from(inputs.dataRaw as string).toString("base64") };
  ids.set(mockId, (await managerApi<{ ID: string }>(lab, "POST", "/configs/create", body)).ID);
}

interface ServiceInspect {
  ID: string;
  Version: { Index: number };
  Spec: Inputs;
}

/** Updates a service's image (what a new `docker.Image` digest does on `pulumi up`). */
export async function updateServiceImage(lab: Pick<SwarmLab, "socket">, service: string, image: string): Promise<void> {
  const current = await managerApi<ServiceInspect>(lab, "GET", `/services/${service}`);
  const spec = { ...current.Spec, TaskTemplate: { ...current.Spec.TaskTemplate, ContainerSpec: { ...current.Spec.TaskTemplate.ContainerSpec, Image: image } } };
  await managerApi(lab, "POST", `/services/${current.ID}/update?version=${current.Version.Index}`, spec);
}

/** The service's update state (`updating`, `completed`, `rollback_completed`, ...) or undefined before any update. */
export async function updateState(lab: Pick<SwarmLab, "socket">, service: string): Promise<string | undefined> {
  const current = await managerApi<{ UpdateStatus?: { State: string } }>(lab, "GET", `/services/${service}`);
  return current.UpdateStatus?.State;
}
