// The swarm stack's mocked graph against the rules of the Docker provider that decide what a real
// `pulumi preview` / `pulumi up` does, which neither the mocks nor the engine replay can show.
// Sources (read at the versions @pulumi/docker 5.2.0 bundles):
// - terraform-provider-docker v4.5.0, internal/provider/resource_docker_service.go: the schema
//   (`mode.global` ConflictsWith `converge_config`; restart_policy `window`, placement `platforms`
//   and container_spec `image` are Optional/Required, not Computed, so what is read back is diffed
//   against the program's inputs);
// - internal/provider/resource_docker_service_structures.go: createRestartPolicy sends Window=0
//   when none is set, flattenTaskRestartPolicy / flattenContainerSpec / flattenServiceHealthcheck /
//   flattenServiceUpdateOrRollbackConfig read durations back as shortDur (Go's Duration.String()
//   without a trailing "0s" after minutes or "0m" after hours), flattenTaskPlacement reads platforms back;
// - internal/provider/resource_docker_service_funcs.go: resourceDockerServiceCreate calls
//   ServiceCreate with QueryRegistry = true;
// - moby client/service_create.go (docker v28.5.2, the provider's go.mod): with QueryRegistry the
//   client rewrites an image not named by digest to `name:tag@sha256:…` and writes the image's
//   platforms (os and architecture, `arm` cleared) into placement.platforms.
import * as assert from "assert";
import { isDeepStrictEqual } from "util";
import { goDurationNs, shortDur } from "../integration/support/swarmServices";
import { LabRun, RecordedResource, runLabUnderMocks, stackEntries } from "../../policy/offline/mockedLab";

const SERVICE = "docker:index/service:Service";
const IMAGE = "docker:index/image:Image";

/** What the provider reads back for a duration the program wrote. */
const readBackDuration = (duration: string): string => shortDur(goDurationNs(duration) as number);

/** The image the Docker client stores for `image` when the registry answers (reference.FamiliarString of the digested name). */
function storedImage(image: string): string {
  if (!/@sha256:[0-9a-f]{64}$/.test(image)) return `${image}@sha256:<the registry's digest>`;
  return image.replace(/^(docker\.io|index\.docker\.io)\//, "").replace(/^library\//, "");
}

/** placement.platforms as the client writes them for an image built for `platform`. */
function writtenPlatforms(platform: string): { os: string; architecture: string }[] {
  const [os, architecture] = platform.split("/");
  return [{ os, architecture: architecture === "arm" ? "" : architecture }];
}

/** Every way in which the service's second `up` would differ from its first, one message each. */
function readBackDiffs(service: RecordedResource, run: LabRun): string[] {
  const diffs: string[] = [];
  const task = service.inputs.taskSpec;
  const container = task.containerSpec;
  const durations: [string, string | undefined][] = [
    ["taskSpec.restartPolicy.delay", task.restartPolicy?.delay],
    ["taskSpec.restartPolicy.window", task.restartPolicy?.window],
    ["taskSpec.containerSpec.stopGracePeriod", container.stopGracePeriod],
    ["taskSpec.containerSpec.healthcheck.interval", container.healthcheck?.interval],
    ["taskSpec.containerSpec.healthcheck.timeout", container.healthcheck?.timeout],
    ["taskSpec.containerSpec.healthcheck.startPeriod", container.healthcheck?.startPeriod],
    ...["updateConfig", "rollbackConfig"].flatMap((key): [string, string | undefined][] => [
      [`${key}.delay`, service.inputs[key]?.delay],
      [`${key}.monitor`, service.inputs[key]?.monitor],
    ]),
  ];
  for (const [key, value] of durations) {
    if (value !== undefined && readBackDuration(value) !== value) diffs.push(`${key} "${value}" is read back as "${readBackDuration(value)}"`);
  }
  if (task.restartPolicy !== undefined && task.restartPolicy.window === undefined) diffs.push(`taskSpec.restartPolicy.window unset is sent as 0 and read back as "0s"`);
  if (storedImage(container.image) !== container.image) diffs.push(`taskSpec.containerSpec.image ${container.image} is stored as ${storedImage(container.image)}`);
  if (!service.ignoreChanges.includes("taskSpec.placement.platforms")) {
    const built = run.resources.find((r) => r.type === IMAGE && r.state.repoDigest === container.image);
    const platform = built?.inputs.build?.platform as string | undefined;
    if (platform === undefined) diffs.push("taskSpec.placement.platforms: the registry's platforms of an image the program does not build are written at create");
    if (platform !== undefined && !isDeepStrictEqual(task.placement?.platforms ?? [], writtenPlatforms(platform))) {
      diffs.push(`taskSpec.placement.platforms ${JSON.stringify(task.placement?.platforms)} but Docker writes ${JSON.stringify(writtenPlatforms(platform))}`);
    }
  }
  return diffs;
}

/** The provider's checks and read-back over every Service of a run; one message per problem. */
function providerProblems(run: LabRun): string[] {
  const problems: string[] = [];
  for (const service of run.resources.filter((r) => r.type === SERVICE)) {
    if (service.inputs.mode?.global === true && service.inputs.convergeConfig !== undefined) {
      problems.push(`${service.name}: mode.global conflicts with convergeConfig (preview fails)`);
    }
    problems.push(...readBackDiffs(service, run).map((diff) => `${service.name}: ${diff}`));
  }
  return problems;
}

const swarmOverrides = (changes: Record<string, unknown>) => ({
  "optivolt:swarm": { ...(stackEntries("swarm")["optivolt:swarm"] as Record<string, unknown>), ...changes },
});

describe("the swarm stack under the Docker provider's rules (terraform-provider-docker v4.5.0)", () => {
  const shapes: [string, Record<string, unknown>][] = [
    ["Pulumi.swarm.yaml", {}],
    ["publishMode none", swarmOverrides({ publishMode: "none", publishedPortsReason: undefined })],
    ["ingress and vip", swarmOverrides({ publishMode: "ingress", endpointMode: "vip" })],
    ["a platform set in the stack", { "optivolt:images": { ...(stackEntries("swarm")["optivolt:images"] as object), platform: "linux/arm/v7" } }],
  ];
  for (const [shape, overrides] of shapes) {
    it(`${shape}: no global service waits to converge, and no service's second \`up\` differs from its first`, async () => {
      const run = await runLabUnderMocks("swarm", overrides);
      assert.ok(run.resources.filter((r) => r.type === SERVICE).length >= 4);
      assert.deepStrictEqual(providerProblems(run), []);
    });
  }

  it("the rules catch what the provider would (a global service with convergeConfig, no window, a tag, no platforms)", () => {
    const run = { resources: [] } as unknown as LabRun;
    const service = {
      type: SERVICE,
      name: "probe",
      ignoreChanges: [],
      state: {},
      inputs: {
        mode: { global: true },
        convergeConfig: { delay: "5s" },
        taskSpec: { containerSpec: { image: "grafana/grafana:12.2.1", stopGracePeriod: "60s" }, restartPolicy: { condition: "any", delay: "5s" } },
      },
    } as unknown as RecordedResource;
    run.resources.push(service);
    assert.deepStrictEqual(providerProblems(run), [
      "probe: mode.global conflicts with convergeConfig (preview fails)",
      'probe: taskSpec.containerSpec.stopGracePeriod "60s" is read back as "1m"',
      'probe: taskSpec.restartPolicy.window unset is sent as 0 and read back as "0s"',
      "probe: taskSpec.containerSpec.image grafana/grafana:12.2.1 is stored as grafana/grafana:12.2.1@sha256:<the registry's digest>",
      "probe: taskSpec.placement.platforms: the registry's platforms of an image the program does not build are written at create",
    ]);
    assert.strictEqual(readBackDuration("90m"), "1h30m");
    assert.strictEqual(readBackDuration("1500ms"), "1.5s");
  });
});
