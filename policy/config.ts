/**
 * The CLI fills a policy's config from its schema defaults, but the SDK hands a policy `{}` when
 * the pack runs without any config; merging over the same defaults keeps both paths identical.
 */
export function withDefaults<T extends object>(getConfig: <C extends object>() => C, defaults: T): T {
  return { ...defaults, ...getConfig<Partial<T>>() };
}

/** Human name used in every message: `docker.Container "grafana"`. */
export function describe(kind: string, name: string): string {
  return `${kind} "${name}"`;
}
