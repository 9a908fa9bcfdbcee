// `dev` and `ci` on one Docker engine: their mocked graphs must claim nothing in common that the
// engine holds by name or number (host ports, container names, networks, volumes, built image
// tags), nor the unikernel's folders on this machine, and the preflight of one must pass while the other runs.
import * as assert from "assert";
import { variantContainerName } from "../../model/naming";
import { PublishedPort, runPreflight } from "../../components/preflight";
import { UNIKERNEL_VARIANT } from "../../components/unikernel";
import { LabRun, runLabUnderMocks } from "../../policy/offline/mockedLab";

const STACKS = ["dev", "ci"] as const;

/** What a stack holds on the engine, by kind. */
function claims(run: LabRun): Record<string, string[]> {
  const inputsOf = (type: string) => run.resources.filter((r) => r.type === `docker:index/${type}`).map((r) => r.inputs);
  const containers = inputsOf("container:Container");
  // The source-built unikernel's build and run folders and its initrd images, as its commands name them.
  const unikernelCommands = run.resources.filter((r) => r.type === "command:local:Command" && r.name.startsWith(UNIKERNEL_VARIANT)).map((r) => String(r.inputs.create));
  const found = (pattern: RegExp) => [...new Set(unikernelCommands.flatMap((text) => text.match(pattern) ?? []))];
  // The unikernel is not a container, but its VM takes a host port and an instance name when kraft is present.
  const unikernel = run.config.unikernel.enabled === false ? [] : [run.config.unikernel];
  return {
    "host port": [
      ...containers.flatMap((c) => (c.ports as { external: number }[]).map((p) => String(p.external))),
      ...unikernel.map((u) => String(u.hostPort)),
    ],
    "container name": [...containers.map((c) => c.name as string), ...unikernel.map(() => variantContainerName(run.config, UNIKERNEL_VARIANT))],
    network: inputsOf("network:Network").map((n) => n.name as string),
    volume: inputsOf("volume:Volume").map((v) => v.name as string),
    "image tag": [...inputsOf("image:Image").map((i) => i.imageName as string), ...found(/optivolt-unikernel-[^\s:]+:[0-9a-f]+/g)],
    "unikernel folder": found(/\.(build|run)\/[^\s/]+/g),
  };
}

describe("two stacks on one engine: dev and ci", () => {
  const runs = new Map<string, LabRun>();
  before(async () => {
    for (const stack of STACKS) runs.set(stack, await runLabUnderMocks(stack));
  });

  it("share no host port, container name, network, volume, built image tag or unikernel folder", () => {
    const [dev, ci] = STACKS.map((stack) => claims(runs.get(stack)!));
    for (const kind of Object.keys(dev)) {
      assert.ok(dev[kind].length > 0 && ci[kind].length > 0, `each stack has a ${kind}`);
      const shared = dev[kind].filter((value) => ci[kind].includes(value));
      assert.deepStrictEqual(shared, [], `dev and ci share ${kind}(s) ${shared.join(", ")}`);
    }
  });

  it("label every network, container and volume with their own stack", () => {
    for (const [stack, run] of runs) {
      const labelled = run.resources.filter((r) => ["docker:index/network:Network", "docker:index/container:Container", "docker:index/volume:Volume"].includes(r.type));
      for (const resource of labelled) {
        const labels = resource.inputs.labels as { label: string; value: string }[];
        assert.deepStrictEqual(labels.filter((l) => l.label === "optivolt.stack"), [{ label: "optivolt.stack", value: stack }], `${stack}: ${resource.type} ${resource.name}`);
      }
    }
  });

  it("the preflight of either passes while the other one runs", async () => {
    for (const [stack, other] of [["ci", "dev"], ["dev", "ci"]]) {
      const running: PublishedPort[] = runs
        .get(other)!
        .resources.filter((r) => r.type === "docker:index/container:Container")
        .flatMap((c) => (c.inputs.ports as { external: number; ip: string }[]).map((p) => ({ container: c.inputs.name as string, address: p.ip, port: p.external })));
      const probes = {
        engineVersion: async () => "20.10.24",
        engineFacts: async () => ({ platform: "linux/amd64", swapLimit: true }),
        publishedPorts: async () => running,
        // The other stack's ports are taken on the host too.
        bindError: async (_address: string, port: number) => (running.some((p) => p.port === port) ? "EADDRINUSE" : undefined),
      };
      await runPreflight(runs.get(stack)!.config, probes, {});
    }
  });
});
