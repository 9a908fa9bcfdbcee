// Applies policies to resources the way the Pulumi CLI's analyzer does (see @pulumi/policy
// server.js): props behind the SDK's unknown-checking proxy, secrets as plain text, enforcement
// level from the pack config, `notApplicable` that throws, unknown values turned into an advisory.
import {
  EnforcementLevel,
  Policies,
  Policy,
  PolicyPackConfig,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
  unknownCheckingProxy,
  UnknownValueError,
} from "@pulumi/policy";
import { packLabel } from "./pack";

/** One resource as the engine hands it to the analyzer. */
export interface AnalyzedResource {
  type: string;
  name: string;
  urn: string;
  /** Inputs, as `validateResource` receives them. */
  props: Record<string, unknown>;
  /** Outputs, as `validateStack` receives them; defaults to the inputs. */
  outputs?: Record<string, unknown>;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
  policyName: string;
  description: string;
  /** The policy's own message (the CLI prints it under the description). */
  message: string;
  enforcementLevel: "mandatory" | "advisory";
  urn?: string;
}

export interface AnalysisOptions {
  /** Per-policy config, as in `pulumi preview --policy-pack-config`. */
  config?: PolicyPackConfig;
  stackTags?: ReadonlyMap<string, string>;
  /** Level of policies that set none; the SDK defaults to advisory. */
  packEnforcementLevel?: EnforcementLevel;
  /** `name@vX.Y.Z`, as the SDK names the pack in its own messages. */
  pack?: string;
}

export interface Analysis {
  violations: Violation[];
  /** policy name → reasons it said it does not apply. */
  notApplicable: Map<string, string[]>;
  /** policy name → how many validations ran to the end (resources checked; 1 for a stack policy). */
  applied: Map<string, number>;
}

class NotApplicableError extends Error {
  constructor(public readonly reason?: string) {
    super(reason ?? "not applicable");
  }
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason);
}

function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

/** Every generated resource class carries its type token, which is what the SDK compares. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = (resourceClass as { __pulumiType?: string }).__pulumiType;
  return typeof pulumiType === "string" && pulumiType.length > 0 && pulumiType === type;
}

/** The options the engine reports for a resource declared with none but a parent. */
const resourceOptions = (parent?: string): PolicyResourceOptions => ({
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
  ...(parent === undefined ? {} : { parent }),
});

/** The CLI validates pack config against each schema and fills in its defaults. */
function policyConfig(policy: Policy, config: PolicyPackConfig | undefined): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    if (schema.default !== undefined) defaults[key] = schema.default;
  }
  const given = config?.[policy.name];
  const { enforcementLevel: _level, ...properties } = typeof given === "object" ? given : {};
  return { ...defaults, ...properties };
}

function levelOf(policy: Policy, options: AnalysisOptions): EnforcementLevel {
  const given = options.config?.[policy.name];
  const configured = typeof given === "string" ? given : given?.enforcementLevel;
  return configured ?? policy.enforcementLevel ?? options.packEnforcementLevel ?? "advisory";
}

/** Runs one validation, recording violations, non-applicability and preview-time unknowns like the SDK. */
async function runValidation(policy: Policy, pack: string, analysis: Analysis, urn: string | undefined, validate: () => unknown): Promise<void> {
  try {
    await validate();
    analysis.applied.set(policy.name, (analysis.applied.get(policy.name) ?? 0) + 1);
  } catch (error) {
    if (error instanceof NotApplicableError) {
      analysis.notApplicable.set(policy.name, [...(analysis.notApplicable.get(policy.name) ?? []), error.reason ?? ""]);
    } else if (error instanceof UnknownValueError) {
      analysis.violations.push({
        policyName: policy.name,
        description: policy.description,
        message: `can't run policy '${policy.name}' from policy pack '${pack}' during preview: ${(error as Error).message}`,
        enforcementLevel: "advisory",
        urn,
      });
    } else {
      throw new Error(`Error validating resource with policy '${policy.name}' from policy pack '${pack}': ${(error as Error).message}`);
    }
  }
}

function reporter(policy: Policy, level: "mandatory" | "advisory", analysis: Analysis, fixedUrn?: string) {
  return (message: string, urn?: string) => {
    analysis.violations.push({ policyName: policy.name, description: policy.description, message, enforcementLevel: level, urn: fixedUrn ?? urn });
  };
}

function resourceArgs(resource: AnalyzedResource, policy: Policy, options: AnalysisOptions): ResourceValidationArgs {
  const props = unknownCheckingProxy(resource.props) as Record<string, unknown>;
  const config = policyConfig(policy, options.config);
  return {
    type: resource.type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: resourceOptions(resource.parent),
    stackTags: options.stackTags ?? new Map(),
    isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
    asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => config as T,
    notApplicable: throwNotApplicable,
  };
}

function stackResources(resources: readonly AnalyzedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const built = resources.map((r) => {
    const props = unknownCheckingProxy(r.outputs ?? r.props) as Record<string, unknown>;
    const resource: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: resourceOptions(r.parent),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(r.type, resourceClass),
      asType: ((resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  const lookup = (urns: readonly string[] = []) => urns.map((u) => byUrn.get(u)).filter((d) => d !== undefined);
  resources.forEach((r, i) => {
    const resource = built[i];
    if (r.parent !== undefined) resource.parent = byUrn.get(r.parent);
    resource.dependencies = lookup(r.dependencies);
    for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) resource.propertyDependencies[key] = lookup(urns);
  });
  return built;
}

/** Every resource through every resource policy, then the whole stack through every stack policy. */
export async function analyze(policies: Policies, resources: readonly AnalyzedResource[], options: AnalysisOptions = {}): Promise<Analysis> {
  const analysis: Analysis = { violations: [], notApplicable: new Map(), applied: new Map() };
  const pack = options.pack ?? packLabel();
  for (const policy of policies) {
    const configured = levelOf(policy, options);
    if (configured === "disabled") continue;
    // Neither resource nor stack violations can be remediated offline: the CLI reports them as mandatory.
    const level = configured === "remediate" ? "mandatory" : configured;
    if (isStackPolicy(policy)) {
      const args = {
        resources: stackResources(resources),
        stackTags: options.stackTags ?? new Map(),
        getConfig: <T extends object>() => policyConfig(policy, options.config) as T,
        notApplicable: throwNotApplicable,
      };
      await runValidation(policy, pack, analysis, undefined, () => policy.validateStack(args, reporter(policy, level, analysis)));
      continue;
    }
    const validations = (policy as ResourceValidationPolicy).validateResource;
    for (const resource of resources) {
      for (const validate of validations === undefined ? [] : Array.isArray(validations) ? validations : [validations]) {
        const args = resourceArgs(resource, policy, options);
        // A resource violation always names the resource being validated.
        await runValidation(policy, pack, analysis, resource.urn, () => validate(args, reporter(policy, level, analysis, resource.urn)));
      }
    }
  }
  return analysis;
}
