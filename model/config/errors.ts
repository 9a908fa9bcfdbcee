/** Raised for any invalid stack config; its message is meant to be shown to the user as is. */
export class ConfigError extends Error {
  constructor(
    public readonly problems: readonly string[],
    stackName: string,
  ) {
    super(
      `Invalid OptiVolt stack config for stack "${stackName}" (fix the keys below in Pulumi.${stackName}.yaml, ` +
        `or with \`pulumi config set --path optivolt:<key> <value>\`):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}
