// Drives single policies the way the Pulumi CLI does, through the pack's offline engine (which
// builds the SDK's arguments: type, props behind the unknown-checking proxy, urn, name, opts,
// isType/asType, getConfig with schema defaults, notApplicable that throws, stackTags).
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { Policy, PolicyPackConfig } from "@pulumi/policy";
import { AnalyzedResource, analyze, Violation } from "../../policy/offline/engine";
import { MockedResource } from "../../policy/offline/fromMocks";
import { main as policyCheckMain } from "../../policy/check";

/** The wire sentinel the engine sends for a value not known until `pulumi up`. */
export const UNKNOWN_AT_PREVIEW = unknownValue;

export interface HarnessOptions {
  /** This policy's config (without the policy name level). */
  config?: Record<string, unknown>;
  stackTags?: Record<string, string>;
}

export interface Outcome {
  violations: Violation[];
  /** Messages only, for `assert.match`. */
  messages: string[];
  /** Reasons given through `args.notApplicable`. */
  notApplicable: string[];
}

/** A resource as the engine presents it; outputs default to the inputs (as the Docker provider echoes them). */
export function resource(type: string, name: string, props: Record<string, unknown>, extra: Partial<AnalyzedResource> = {}): AnalyzedResource {
  return { type, name, urn: `urn:pulumi:test::optivolt::${type}::${name}`, props, ...extra };
}

export function container(name: string, props: Record<string, unknown>, extra: Partial<AnalyzedResource> = {}): AnalyzedResource {
  return resource("docker:index/container:Container", name, props, extra);
}

export function service(name: string, props: Record<string, unknown>, extra: Partial<AnalyzedResource> = {}): AnalyzedResource {
  return resource("docker:index/service:Service", name, props, extra);
}

/** Runs one policy over the resources (each resource policy per resource; a stack policy once over all). */
export async function runPolicy(policy: Policy, resources: AnalyzedResource[], options: HarnessOptions = {}): Promise<Outcome> {
  const config: PolicyPackConfig = options.config ? { [policy.name]: options.config } : {};
  const analysis = await analyze([policy], resources, { config, stackTags: new Map(Object.entries(options.stackTags ?? {})) });
  return {
    violations: analysis.violations,
    messages: analysis.violations.map((v) => v.message),
    notApplicable: analysis.notApplicable.get(policy.name) ?? [],
  };
}

/**
 * Records the resources a small program declares under pulumi mocks (a program the typed stack
 * config would refuse, such as a container without limits). Mocks echo inputs as outputs.
 */
export async function recordUnderMocks(stack: string, program: () => pulumi.Resource[]): Promise<MockedResource[]> {
  const recorded: MockedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, state: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "optivolt",
    stack,
    true,
  );
  const resources = program();
  await Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  return recorded;
}

/** Runs `npm run policy:check -- ...args` in process, capturing what it prints. */
export async function runPolicyCheck(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await policyCheckMain(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}
