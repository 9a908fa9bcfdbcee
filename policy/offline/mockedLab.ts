// Runs the real OptiVolt program under `pulumi.runtime.setMocks` with a real stack file and
// records the resource graph. Used by `npm run policy:check`, `npm run graphs:snapshot` and the tests.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig, parseStackEntries, readStackFile } from "../../model/config";
import { loadLabConfig } from "../../model/config/pulumi";
import { deployLab, DeployLabOptions } from "../../components/lab";
import { EngineFacts, PreflightProbes } from "../../components/preflight";
import { HostProbes } from "../../components/unikernel";

/** Name of the project in Pulumi.yaml (the mocked URNs and config namespace use it). */
export const PROJECT_NAME = "optivolt";

/** One resource the program registered, with its inputs as the provider would receive them. */
export interface RecordedResource {
  /** e.g. `docker:index/container:Container` or `optivolt:lab:WebApiVariant` */
  type: string;
  /** Pulumi logical name */
  name: string;
  /** false for component resources */
  custom: boolean;
  inputs: Record<string, any>;
  /** What the mocks returned: inputs plus the computed outputs (stack policies read these). */
  state: Record<string, any>;
  /** The parent resource; undefined when the parent is the stack itself. */
  parent?: { type: string; name: string };
  /** Resources named in `dependsOn` (explicit dependencies only). */
  dependsOn: { type: string; name: string }[];
  /** The `ignoreChanges` option: properties whose read-back the next diff leaves alone. */
  ignoreChanges: string[];
  /** The other resource options that change what an update does (only those the program set). */
  options: RecordedOptions;
}

/** Resource options beyond parent, dependsOn and ignoreChanges; the provider by its resource. */
export interface RecordedOptions {
  provider?: { type: string; name: string };
  protect?: boolean;
  deleteBeforeReplace?: boolean;
  retainOnDelete?: boolean;
  replaceOnChanges?: string[];
  additionalSecretOutputs?: string[];
  customTimeouts?: unknown;
}

export interface LabRun {
  /** The validated config the run used (from the stack file plus overrides). */
  config: LabConfig;
  resources: RecordedResource[];
  /** The stack outputs, fully resolved (secrets unwrapped). */
  outputs: Record<string, any>;
}

export interface RunOptions {
  /** `deployLab` (default) runs `deployLab(loadLabConfig())`; `index` runs the exported program of index.ts. */
  program?: "deployLab" | "index";
  /** Run as a preview (`pulumi preview`): the program then skips its preflight. Default false. */
  preview?: boolean;
  /** Probes handed to index.ts's preflight (only with `program: "index"`); a free local engine, MOCKED_ENGINE, by default. */
  probes?: PreflightProbes;
  /** The engine facts `deployLab` gets (only with `program: "deployLab"`); MOCKED_ENGINE's by default. */
  engine?: EngineFacts;
  /** `deployLab`'s notes (only with `program: "deployLab"`); Pulumi's log by default. */
  notify?: DeployLabOptions["notify"];
  /** What the unikernel finds on the machine (only with `program: "deployLab"`); MOCKED_MACHINE by default. */
  unikernelProbes?: HostProbes;
  /** Called as each resource reaches the mocks, also when the program later fails. */
  onRegister?: (resource: RecordedResource) => void;
  /** Folder holding `Pulumi.<stackName>.yaml`; the project root by default (examples live elsewhere). */
  stackDir?: string;
}

/** The engine a mocked run deploys to: linux/amd64 with swap accounting, no port taken. Nothing touches a real engine. */
export const MOCKED_ENGINE_FACTS: EngineFacts = { platform: "linux/amd64", swapLimit: true };
export const MOCKED_ENGINE: PreflightProbes = {
  engineVersion: async () => "mocked",
  engineFacts: async () => MOCKED_ENGINE_FACTS,
  publishedPorts: async () => [],
  bindError: async () => undefined,
};

/**
 * The machine a mocked run deploys from: QEMU and the build tools on the PATH, no kraft, no usable
 * KVM, every local archive present. So the unikernel is source-built under mocks whatever the test
 * machine has installed.
 */
export const MOCKED_MACHINE: HostProbes = { commandOnPath: (name) => name !== "kraft", kvmUsable: () => false, fileExists: () => true };

/** Resolves an Output's value (also when it is a secret); for assertions that read like plain async code. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => pulumi.output(output).apply(resolve));
}

/**
 * The stack file's `config:` entries with overrides applied (`"optivolt:bindAddress": "0.0.0.0"`;
 * a value of undefined removes the key).
 */
export function stackEntries(stackName: string, overrides: Record<string, unknown> = {}, stackDir?: string): Record<string, unknown> {
  const entries: Record<string, unknown> = { ...readStackFile(stackName, stackDir) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete entries[key];
    else entries[key] = value;
  }
  return entries;
}

function fakeDigest(seed: string): string {
  return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}

/** Computed outputs the real providers return and the program reads. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "docker:index/image:Image": {
      const digest = fakeDigest(`image:${name}:${JSON.stringify(inputs.build ?? {})}`);
      // Pushed: the registry's `repository@sha256:...`; local only: the image ID.
      const server = inputs.registry?.server;
      const repository = String(inputs.imageName).replace(/:[^:/]+$/, "");
      return { repoDigest: server ? `${repository}@${digest}` : digest, baseImageName: inputs.imageName, registryServer: server ?? "" };
    }
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: fakeDigest(`remote:${inputs.name}`), repoDigest: `${inputs.name}@${fakeDigest(`remote:${inputs.name}`)}` };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}`, bcryptHash: "mock-bcrypt" };
    case "docker:index/network:Network":
      // Docker picks a subnet and its gateway when the program gives none; the unikernel's forward reads it.
      return { name: inputs.name ?? name, ipamConfigs: inputs.ipamConfigs ?? [{ subnet: "172.30.0.0/16", gateway: "172.30.0.1" }] };
    case "command:local:Command":
      return { stdout: "", stderr: "" };
    default:
      return {};
  }
}

function resourceOfUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: parts[2].split("$").pop() as string, name: parts.slice(3).join("::") };
}

/** The options of `RecordedOptions` that the program set, and the explicit provider. */
function recordedOptions(opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions): { provider?: pulumi.ProviderResource; options: RecordedOptions } {
  const options: RecordedOptions = {};
  for (const name of ["protect", "deleteBeforeReplace", "retainOnDelete", "replaceOnChanges", "additionalSecretOutputs", "customTimeouts"] as const) {
    if (opts[name] !== undefined) (options as Record<string, unknown>)[name] = opts[name];
  }
  return { provider: opts.provider, options };
}

let running: Promise<unknown> = Promise.resolve();

/**
 * Loads `Pulumi.<stackName>.yaml` (plus overrides) into the mocked config, runs the real program
 * inside a mocked Pulumi stack, and returns every registered resource and the resolved outputs.
 * Calls are serialized: the Pulumi runtime's mocks and config are process-wide.
 * Rejects with the program's own error (e.g. a ConfigError, or index.ts's RunError).
 */
export function runLabUnderMocks(stackName: string, overrides: Record<string, unknown> = {}, options: RunOptions = {}): Promise<LabRun> {
  const run = running.then(() => runOnce(stackName, overrides, options));
  running = run.catch(() => undefined);
  return run;
}

async function runOnce(stackName: string, overrides: Record<string, unknown>, options: RunOptions): Promise<LabRun> {
  const entries = stackEntries(stackName, overrides, options.stackDir);
  const recorded = new Map<string, RecordedResource>();
  const parents = new Map<string, pulumi.Resource | undefined>();
  const dependencies = new Map<string, pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource> | undefined>();
  const ignored = new Map<string, string[]>();
  const otherOptions = new Map<string, { provider?: pulumi.ProviderResource; options: RecordedOptions }>();
  const key = (type: string, name: string) => `${type}::${name}`;
  // Registrations reach the mocks asynchronously; `registered` settles once every constructed resource has.
  let allRegistered = () => {};
  const registered = new Promise<void>((resolve) => (allRegistered = resolve));
  let programDone = false;
  const settleIfComplete = () => {
    if (programDone && [...parents.keys()].every((k) => recorded.has(k))) allRegistered();
  };

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs) };
        if (args.type !== "pulumi:pulumi:Stack") {
          const k = key(args.type, args.name);
          if (recorded.has(k)) throw new Error(`two resources of type ${args.type} are named ${args.name}; mocks cannot tell them apart`);
          const resource: RecordedResource = { type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, state, dependsOn: [], ignoreChanges: [], options: {} };
          recorded.set(k, resource);
          options.onRegister?.(resource);
          settleIfComplete();
        }
        return { id: args.custom === false ? undefined : `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    PROJECT_NAME,
    stackName,
    options.preview ?? false,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
  );

  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const parent = args.opts.parent;
      parents.set(key(args.type, args.name), parent && parent.constructor.name === "Stack" ? undefined : parent);
      dependencies.set(key(args.type, args.name), args.opts.dependsOn);
      ignored.set(key(args.type, args.name), args.opts.ignoreChanges ?? []);
      otherOptions.set(key(args.type, args.name), recordedOptions(args.opts));
      return undefined;
    });
    if (options.program === "index") {
      // Clear the cache so each run re-evaluates index.ts like a fresh `pulumi up` process would.
      delete require.cache[require.resolve("../../index")];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const program = require("../../index") as (probes?: PreflightProbes) => Promise<unknown>;
      return program(options.probes ?? MOCKED_ENGINE);
    }
    return deployLab(loadLabConfig(), { engine: options.engine ?? MOCKED_ENGINE_FACTS, notify: options.notify, unikernelProbes: options.unikernelProbes ?? MOCKED_MACHINE });
  });
  const resolved = (await promiseOf(pulumi.output(outputs ?? {}))) as Record<string, any>;
  programDone = true;
  settleIfComplete();
  await registered;

  for (const [k, parent] of parents) {
    const resource = recorded.get(k);
    if (!resource) continue;
    resource.ignoreChanges = ignored.get(k) ?? [];
    const other = otherOptions.get(k);
    resource.options = { ...other?.options };
    if (other?.provider) resource.options.provider = resourceOfUrn(await promiseOf(other.provider.urn));
    if (parent) resource.parent = resourceOfUrn(await promiseOf(parent.urn));
    const dependsOn = await promiseOf(pulumi.output(dependencies.get(k) ?? []));
    for (const dependency of Array.isArray(dependsOn) ? dependsOn : [dependsOn]) {
      resource.dependsOn.push(resourceOfUrn(await promiseOf((dependency as unknown as pulumi.Resource).urn)));
    }
  }
  return { config: parseStackEntries(entries, stackName), resources: [...recorded.values()], outputs: resolved };
}
