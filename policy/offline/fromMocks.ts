// Turns the resource graph recorded under pulumi mocks into what the engine would hand the
// analyzer: real-looking URNs, and values presented the way the policy SDK presents them.
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { AnalyzedResource } from "./engine";

/** The part of a mocked resource the check needs (./mockedLab.ts `RecordedResource`). */
export interface MockedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  parent?: { type: string; name: string };
  /** What the mock returned (inputs plus computed outputs). */
  state?: Record<string, unknown>;
}

/**
 * Mocks hand inputs over with secrets wrapped in a signature object and, in a preview, unknowns as
 * `pulumi.Unknown`. The policy SDK instead unwraps secrets to plain text (`deserializeProperties(..,
 * false)`) and keeps unknowns as the wire sentinel its proxy throws on. Policies must be checked
 * against the latter, or a check could pass offline by spotting a secret wrapper it never sees live.
 */
export function asPolicyValue(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return unknownValue;
  if (Array.isArray(value)) return value.map(asPolicyValue);
  if (value === null || typeof value !== "object" || pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return value;
  const record = value as Record<string, unknown>;
  if (record[specialSigKey] === specialSecretSig) return asPolicyValue(record.value);
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined).map(([k, v]) => [k, asPolicyValue(v)]));
}

function asPolicyProps(values: Record<string, unknown>): Record<string, unknown> {
  return asPolicyValue(values) as Record<string, unknown>;
}

/** `urn:pulumi:<stack>::<project>::<parent types joined by $>$<type>::<name>`, as the engine builds it. */
export function analyzedResources(recorded: readonly MockedResource[], stack: string, project: string): AnalyzedResource[] {
  const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
  const byKey = new Map(recorded.map((r) => [key(r), r]));
  const typeChain = (r: MockedResource): string => {
    const parent = r.parent && byKey.get(key(r.parent));
    return parent ? `${typeChain(parent)}$${r.type}` : r.type;
  };
  const urnOf = (r: MockedResource) => `urn:pulumi:${stack}::${project}::${typeChain(r)}::${r.name}`;
  return recorded.map((r) => {
    const parent = r.parent && byKey.get(key(r.parent));
    return {
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      props: asPolicyProps(r.inputs),
      outputs: r.state === undefined ? undefined : asPolicyProps(r.state),
      parent: parent ? urnOf(parent) : undefined,
    };
  });
}
