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
          : { Condition: task.restartPolicy.condition, Delay: goDurationNs(task.restartPolicy.delay), MaxAttempts: task.restartPolicy.maxAttempts, Window: goDurationNs(task.restartPolicy.window) },
      Placement: task.placement === undefined ? undefined : { Constraints: task.placement.constraints, MaxReplicas: task.placement.maxReplicas },
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

/** Creates the service on the lab's manager; resolves with its ID. */
export async function createService(lab: Pick<SwarmLab, "port">, inputs: Inputs, ids: CreatedIds): Promise<string> {
  return (await managerApi<{ ID: string }>(lab, "POST", "/services/create", serviceSpec(inputs, ids))).ID;
}

/** Creates a `docker:index/network:Network` (overlay) on the lab's manager and records its ID. */
export async function createNetwork(lab: Pick<SwarmLab, "port">, inputs: Inputs, mockId: string, ids: CreatedIds): Promise<void> {
  const body = { Name: inputs.name, Driver: inputs.driver, Attachable: inputs.attachable, Labels: labelMap(inputs.labels), CheckDuplicate: true };
  ids.set(mockId, (await managerApi<{ Id: string }>(lab, "POST", "/networks/create", body)).Id);
}

/** Creates a `docker:index/serviceConfig:ServiceConfig` (its `dataRaw`) and records its ID. */
export async function createConfig(lab: Pick<SwarmLab, "port">, inputs: Inputs, mockId: string, ids: CreatedIds): Promise<void> {
  const body = { Name: inputs.name, Data: Buffer.from(inputs.dataRaw as string).toString("base64") };
  ids.set(mockId, (await managerApi<{ ID: string }>(lab, "POST", "/configs/create", body)).ID);
}

interface ServiceInspect {
  ID: string;
  Version: { Index: number };
  Spec: Inputs;
}

/** Updates a service's image (what a new `docker.Image` digest does on `pulumi up`). */
export async function updateServiceImage(lab: Pick<SwarmLab, "port">, service: string, image: string): Promise<void> {
  const current = await managerApi<ServiceInspect>(lab, "GET", `/services/${service}`);
  const spec = { ...current.Spec, TaskTemplate: { ...current.Spec.TaskTemplate, ContainerSpec: { ...current.Spec.TaskTemplate.ContainerSpec, Image: image } } };
  await managerApi(lab, "POST", `/services/${current.ID}/update?version=${current.Version.Index}`, spec);
}

/** The service's update state (`updating`, `completed`, `rollback_completed`, ...) or undefined before any update. */
export async function updateState(lab: Pick<SwarmLab, "port">, service: string): Promise<string | undefined> {
  const current = await managerApi<{ UpdateStatus?: { State: string } }>(lab, "GET", `/services/${service}`);
  return current.UpdateStatus?.State;
}
