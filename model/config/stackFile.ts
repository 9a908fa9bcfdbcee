import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { ConfigError } from "./errors";

/** Stack names Pulumi allows; also all that may reach a file name, an image tag or a command line. */
export const STACK_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * The one check of a stack name read from a user (`--stack NAME` of every command): throws a
 * ConfigError naming the rule, so nothing downstream sees `;`, `/` or a space.
 */
export function validStackName(name: string): string {
  if (!STACK_NAME_PATTERN.test(name) || name === "." || name === "..") {
    throw new StackFileError(
      `stack name ${JSON.stringify(name)} is not valid: use letters, digits, "_", "." and "-" only (as Pulumi does), e.g. dev or ci`,
      name,
    );
  }
  return name;
}

/** A stack file that cannot be read as YAML, or a bad stack name: one line, with file, line and column when known. */
export class StackFileError extends ConfigError {
  constructor(line: string, stackName: string) {
    super([line], stackName);
    this.message = line;
    this.name = "StackFileError";
  }
}

/** Path of `Pulumi.<stack>.yaml` in the project root; the name is validated first. */
export function stackFilePath(stackName: string, projectDir = path.resolve(__dirname, "..", "..")): string {
  return path.join(projectDir, `Pulumi.${validStackName(stackName)}.yaml`);
}

/** The key path of the first value that contains itself (a YAML alias inside its own anchor), or undefined. */
export function selfReference(value: unknown, keyPath: string[] = [], open = new Set<object>()): string[] | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (open.has(value)) return keyPath;
  open.add(value);
  for (const [key, child] of Object.entries(value)) {
    const found = selfReference(child, [...keyPath, key], open);
    if (found !== undefined) return found;
  }
  open.delete(value);
  return undefined;
}

/** Reads the whole `config:` block of `Pulumi.<stack>.yaml` (every namespace). */
export function readStackFile(stackName: string, projectDir?: string): Record<string, unknown> {
  const file = stackFilePath(stackName, projectDir);
  if (!fs.existsSync(file)) {
    throw new ConfigError([`no stack file ${file}; create it with \`pulumi stack init ${stackName}\` or copy Pulumi.dev.yaml`], stackName);
  }
  const document = parseDocument(fs.readFileSync(file, "utf8"));
  const [error] = document.errors;
  if (error !== undefined) {
    const at = error.linePos?.[0];
    const where = at === undefined ? file : `${file}:${at.line}:${at.col}`;
    const what = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new StackFileError(`${where}: YAML syntax error: ${what}; fix the file (\`pulumi config\` cannot read it either)`, stackName);
  }
  const content = document.toJS({ maxAliasCount: -1 }) as { config?: Record<string, unknown> } | null;
  const config = content?.config ?? {};
  const cycle = selfReference(config);
  if (cycle !== undefined) {
    throw new StackFileError(
      `${file}: ${cycle.join(".")} is a YAML alias to a value that contains it (a value cannot contain itself); write the value out instead`,
      stackName,
    );
  }
  return config;
}
