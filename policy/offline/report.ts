import { Analysis, Violation } from "./engine";

function line(v: Violation): string {
  const level = `[${v.enforcementLevel}]`.padEnd(12);
  return `    ${level} ${v.policyName} (${v.urn ?? "stack"}): ${v.message}`;
}

/** Violations as the CLI lists them after a preview: mandatory first, one per line, then a tally. */
export function formatAnalysis(analysis: Analysis, pack: string): string {
  const ordered = [...analysis.violations].sort((a, b) => (a.enforcementLevel === b.enforcementLevel ? 0 : a.enforcementLevel === "mandatory" ? -1 : 1));
  const mandatory = ordered.filter((v) => v.enforcementLevel === "mandatory").length;
  if (ordered.length === 0) return `Policy pack ${pack}: no violations.`;
  return [
    `Policy Violations (${pack}):`,
    ...ordered.map(line),
    `${ordered.length} violation(s): ${mandatory} mandatory, ${ordered.length - mandatory} advisory.`,
  ].join("\n");
}

/** Non-zero when any violation is mandatory, like `pulumi preview --policy-pack`. */
export function exitCodeOf(analysis: Analysis): number {
  return analysis.violations.some((v) => v.enforcementLevel === "mandatory") ? 1 : 0;
}
