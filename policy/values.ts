import { UnknownValueError } from "@pulumi/policy";

/**
 * During `pulumi preview` a value computed by another resource (an image ID, a generated password)
 * is unknown, and the SDK's props proxy throws when a policy reads it. A computed value is by
 * definition not a literal in the program, so the policies that care read through `known`.
 */
export const UNKNOWN = Symbol("unknown during preview");
export type MaybeKnown<T> = T | typeof UNKNOWN;

export function known<T>(read: () => T): MaybeKnown<T> {
  try {
    return read();
  } catch (error) {
    if (error instanceof UnknownValueError) return UNKNOWN;
    throw error;
  }
}

/** Items of a list input that may itself, or any of its items, be unknown during preview. */
export function knownItems<T>(list: () => readonly T[] | undefined): MaybeKnown<MaybeKnown<T>[]> {
  const items = known(list);
  if (items === UNKNOWN) return UNKNOWN;
  if (items === undefined) return [];
  const result: MaybeKnown<T>[] = [];
  for (let i = 0; i < items.length; i++) result.push(known(() => items[i]));
  return result;
}

/** Docker numbers arrive as numbers or numeric strings (`cpus: "0.5"`). */
export function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Value of a docker.Container label given as the provider's `{ label, value }` list. */
export function labelValue(labels: readonly { label: string; value: string }[] | undefined, name: string): string | undefined {
  return labels?.find((entry) => entry.label === name)?.value;
}

/** `127.0.0.0/8` and `::1`: addresses only this machine can reach. */
export function isLoopback(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1" || address === "[::1]" || address === "localhost";
}
