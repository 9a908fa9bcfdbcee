import { z } from "zod";

/** A decimal number written as text: `0.25`, `128`, `-1`, `1e3` (not `0x10`, `Infinity` or an empty string). */
const DECIMAL_TEXT = /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/;

/**
 * `pulumi config set --path 'optivolt:variants.minimal.cpus' 0.25` stores `"0.25"`: with --path,
 * Pulumi keeps every value that is not a plain integer (or true/false) as a string. So every
 * numeric key takes a decimal string as the number it spells; anything else stays as it is and fails.
 */
function decimalTextToNumber(value: unknown): unknown {
  return typeof value === "string" && DECIMAL_TEXT.test(value) ? Number(value) : value;
}

/** A finite number; the one-line message names what is wanted. */
const finiteNumber = z.number({
  error: (issue) => (issue.code !== "invalid_type" ? undefined : issue.expected === "int" ? "must be a whole number" : "must be a number"),
});

/**
 * A numeric config key that also accepts the string Pulumi writes for it. `constrain` adds the
 * key's own rules: `numeric((n) => n.int().min(6))`.
 */
export function numeric<T extends z.ZodType<number, number>>(constrain: (n: z.ZodNumber) => T) {
  return z.preprocess(decimalTextToNumber, constrain(finiteNumber));
}
