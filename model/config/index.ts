import { z } from "zod";
import { ConfigError } from "./errors";
import { monitoringSchema } from "./monitoring";
import { ENGINES, swarmIssues, swarmSchema } from "./swarm";
import { unikernelSchema } from "./unikernel";
import { MicrovmSpec } from "./microvm";
import { readStackFile } from "./stackFile";
import { variantTableSchema } from "./variantTable";
import { imagesSchema } from "./variants";

export { ConfigError } from "./errors";
export { readStackFile, selfReference, STACK_NAME_PATTERN, StackFileError, stackFilePath, validStackName } from "./stackFile";
export { DOCKER_MIN_MEMORY_MB, IMAGE_TARGETS, ImageTarget, MEMORY_FLOORS_MB, memoryFloorMb, Runtime, RUNTIMES } from "./variants";
export { ISOLATIONS, Isolation, MICROVM_MEMORY_FLOOR_MB, MicrovmSpec } from "./microvm";

/** The Pulumi config namespace (the project name in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "optivolt";
/** The Docker provider's engine address; the preflight checks the same engine the provider uses. */
export const DOCKER_HOST_KEY = "docker:host";

const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, "must be an IPv4 address such as 127.0.0.1");

export const labConfigSchema = z
  .strictObject({
    /** Address every published port binds to. */
    bindAddress: ipv4.default("127.0.0.1"),
    /** Host name the output URLs use (the remote machine's name when docker:host points elsewhere). */
    endpointHost: z.string().regex(/^[a-zA-Z0-9.:-]+$/, "must be a host name or IP address").optional(),
    /** The lab's own Docker network. */
    networkName: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/).default("optivolt-lab"),
    images: imagesSchema,
    variants: variantTableSchema,
    /** Variant the benchmark and reports compare the others against. */
    baselineVariant: z.string().optional(),
    monitoring: monitoringSchema,
    unikernel: unikernelSchema,
    /** `swarm`: the variants run as Docker Swarm services (docker:host names a manager); see model/config/swarm.ts. */
    engine: z.enum(ENGINES).default("docker"),
    swarm: swarmSchema,
  })
  .superRefine((config, ctx) => {
    const owners = new Map<number, string>();
    const claim = (port: number, owner: string, path: (string | number)[]) => {
      const previous = owners.get(port);
      if (previous !== undefined) {
        ctx.addIssue({ code: "custom", path, message: `host port ${port} is already used by ${previous}; give each service its own port` });
      } else {
        owners.set(port, owner);
      }
    };
    for (const [name, spec] of Object.entries(config.variants)) {
      claim(spec.hostPort, `variant ${name}`, ["variants", name, "hostPort"]);
    }
    if (config.unikernel.enabled !== false) {
      claim(config.unikernel.hostPort, "the unikernel", ["unikernel", "hostPort"]);
    }
    if (config.monitoring.enabled) {
      claim(config.monitoring.prometheus.port, "Prometheus", ["monitoring", "prometheus", "port"]);
      claim(config.monitoring.cadvisor.port, "cAdvisor", ["monitoring", "cadvisor", "port"]);
      claim(config.monitoring.grafana.port, "Grafana", ["monitoring", "grafana", "port"]);
    }
    // Only containers are a baseline, a swarm service or a Docker image's user; micro-VMs run beside them.
    const variantNames = Object.entries(config.variants).filter(([, spec]) => spec.isolation === "container").map(([name]) => name);
    if (config.engine === "swarm") {
      for (const [name, spec] of Object.entries(config.variants)) {
        if (spec.isolation === "microvm") ctx.addIssue({ code: "custom", path: ["variants", name, "isolation"], message: "a swarm stack runs containers only; remove the micro-VM or use engine docker" });
      }
      for (const issue of swarmIssues(config.swarm, variantNames)) ctx.addIssue({ code: "custom", ...issue });
    }
    if (config.baselineVariant !== undefined && variantNames.length > 0 && !variantNames.includes(config.baselineVariant)) {
      ctx.addIssue({
        code: "custom",
        path: ["baselineVariant"],
        message: `names no variant; use one of ${variantNames.join(", ")}`,
      });
    }
  });

type ParsedLabConfig = z.output<typeof labConfigSchema>;
/** A container variant (the table's entries without `isolation: microvm`; the key itself is dropped). */
export type VariantSpec = Omit<Extract<ParsedLabConfig["variants"][string], { isolation: "container" }>, "isolation">;
export type ImagesConfig = ParsedLabConfig["images"];
export type MonitoringConfig = ParsedLabConfig["monitoring"];
export type UnikernelConfig = ParsedLabConfig["unikernel"];
export type { SwarmConfig } from "./swarm";
/** The validated stack config; `baselineVariant` always names a container variant. */
export type LabConfig = Omit<ParsedLabConfig, "baselineVariant" | "endpointHost" | "variants"> & {
  /** The container variants. */
  variants: Record<string, VariantSpec>;
  /** The micro-VM variants (`isolation: microvm` in the same table). */
  microvms: Record<string, MicrovmSpec>;
  baselineVariant: string;
  /** Host the output URLs name: `endpointHost`, else the bind address (loopback when it binds every address). */
  endpointHost: string;
  stackName: string;
  /** `docker:host` (the Docker provider's own key): the engine the lab deploys to; unset means the local one. */
  dockerHost: string | undefined;
};

const dockerHostSchema = z
  .string()
  .regex(/^(unix|tcp|ssh|npipe):\/\/\S+$/, "must be an address such as unix:///var/run/docker.sock or ssh://user@host")
  .optional();

function valueAt(raw: unknown, keyPath: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of keyPath) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Validates the raw stack config (keys without the `optivolt:` prefix) into typed values.
 * Throws a ConfigError listing every bad key with its value and the fix.
 */
export function parseLabConfig(raw: Record<string, unknown>, stackName: string, dockerHost?: unknown): LabConfig {
  const result = labConfigSchema.safeParse(raw);
  const host = dockerHostSchema.safeParse(dockerHost);
  if (!result.success || !host.success) {
    const labIssues = result.success ? [] : result.error.issues;
    const problems = labIssues.map((issue) => {
      const key = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        const where = key === "" ? "" : ` under ${CONFIG_NAMESPACE}:${key}`;
        return `unknown key(s)${where}: ${issue.keys.join(", ")}; remove them or check their spelling`;
      }
      if (issue.code === "invalid_key") {
        const parent = issue.path.slice(0, -1).map(String).join(".");
        const reasons = issue.issues.map((inner) => inner.message).join("; ");
        return `${CONFIG_NAMESPACE}:${parent}: the name ${JSON.stringify(String(issue.path.at(-1)))} is not allowed: ${reasons}; rename it`;
      }
      const value = valueAt(raw, issue.path);
      const got = value === undefined ? "it is missing" : `got ${JSON.stringify(value)}`;
      return `${CONFIG_NAMESPACE}:${key}: ${issue.message}, ${got}`;
    });
    if (!host.success) problems.push(`docker:host: ${host.error.issues[0].message}, got ${JSON.stringify(dockerHost)}`);
    throw new ConfigError(problems, stackName);
  }
  const { endpointHost, baselineVariant, variants: table, ...parsed } = result.data;
  const variants: Record<string, VariantSpec> = {};
  const microvms: Record<string, MicrovmSpec> = {};
  for (const [name, spec] of Object.entries(table)) {
    if (spec.isolation === "microvm") {
      microvms[name] = spec;
    } else {
      const { isolation: _container, ...container } = spec;
      variants[name] = container;
    }
  }
  return {
    ...parsed,
    variants,
    microvms,
    baselineVariant: baselineVariant ?? Object.keys(variants)[0],
    endpointHost: endpointHost ?? (parsed.bindAddress === "0.0.0.0" ? "127.0.0.1" : parsed.bindAddress),
    stackName,
    dockerHost: host.data,
  };
}

/** Validates every `namespace:key` entry of a stack (this project's keys and `docker:host`). */
export function parseStackEntries(entries: Record<string, unknown>, stackName: string): LabConfig {
  return parseLabConfig(projectKeys(entries), stackName, entries[DOCKER_HOST_KEY]);
}

/** Turns Pulumi-style `namespace:key` entries into the raw map of this project's keys. */
export function projectKeys(entries: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(entries)) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return raw;
}

/** Validated config of a stack, read straight from its stack file (tests, bench, offline policy check). */
export function loadStackConfig(stackName: string, projectDir?: string): LabConfig {
  return parseStackEntries(readStackFile(stackName, projectDir), stackName);
}
