import * as docker from "@pulumi/docker";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { describe, withDefaults } from "../config";
import { imagePin } from "../imageRef";
import { known, knownItems, UNKNOWN } from "../values";

export interface GrafanaPasswordConfig {
  /** Resource types whose `result` output is a generated secret. */
  passwordSourceTypes: string[];
}
export const GRAFANA_PASSWORD_DEFAULTS: GrafanaPasswordConfig = {
  passwordSourceTypes: ["random:index/randomPassword:RandomPassword"],
};

const PASSWORD_ENV = "GF_SECURITY_ADMIN_PASSWORD";

function isGrafana(container: PolicyResource, envs: readonly unknown[]): boolean {
  const image = known(() => container.props.image as string | undefined);
  const grafanaImage = typeof image === "string" && imagePin(image).kind !== "image-id" && /(^|\/)grafana[:@/]|(^|\/)grafana$/.test(image);
  return grafanaImage || envs.some((env) => typeof env === "string" && env.startsWith("GF_"));
}

/**
 * Policies never see secretness: the SDK hands them secrets as plain text, and values computed by
 * another resource as "unknown" during preview. So a password counts as not-a-literal when it is
 * unknown at preview, or when it is, or depends on, the `result` of a password generator in the stack.
 */
export const grafanaPasswordNotLiteral: StackValidationPolicy = {
  name: "grafana-admin-password-not-literal",
  description: "Grafana's admin password comes from a generated secret, never a literal in the program.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      passwordSourceTypes: {
        type: "array",
        items: { type: "string" },
        default: GRAFANA_PASSWORD_DEFAULTS.passwordSourceTypes,
        description: "Resource types whose `result` output may feed GF_SECURITY_ADMIN_PASSWORD.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { passwordSourceTypes } = withDefaults(args.getConfig, GRAFANA_PASSWORD_DEFAULTS);
    const sources = args.resources.filter((r) => passwordSourceTypes.includes(r.type));
    const generated = new Set(sources.map((r) => known(() => r.props.result as unknown)).filter((v) => typeof v === "string"));
    for (const container of args.resources.filter((r) => r.isType(docker.Container))) {
      const envs = knownItems(() => container.props.envs as string[] | undefined);
      if (envs === UNKNOWN || !isGrafana(container, envs)) continue;
      if (envs.some((env) => typeof env === "string" && env.startsWith(`${PASSWORD_ENV}__FILE=`))) continue;
      const entry = envs.find((env): env is string => env !== UNKNOWN && env.startsWith(`${PASSWORD_ENV}=`));
      // At preview an unknown entry may be the password, computed by another resource.
      if (entry === undefined && envs.includes(UNKNOWN)) continue;
      const who = describe("docker.Container", container.name);
      const fix = `generate it with random.RandomPassword and pass its \`result\` (a secret) as ${PASSWORD_ENV}, or mount it and set ${PASSWORD_ENV}__FILE`;
      if (entry === undefined) {
        reportViolation(`${who} runs Grafana without ${PASSWORD_ENV}, so the admin password is the literal "admin"; ${fix}.`, container.urn);
        continue;
      }
      const fromSource = (container.propertyDependencies.envs ?? []).some((dep) => passwordSourceTypes.includes(dep.type));
      if (fromSource || generated.has(entry.slice(PASSWORD_ENV.length + 1))) continue;
      reportViolation(`${who} sets ${PASSWORD_ENV} to a literal written in the program; ${fix}.`, container.urn);
    }
  },
};
