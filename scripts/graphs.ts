// `npm run graphs:snapshot`: runs the program under Pulumi mocks for the dev, ci and swarm stacks and
// writes each graph (every resource's type, name, parent, dependencies, inputs and options, and the
// stack outputs) as canonical JSON to tests/fixtures/graphs/<stack>.json. A unit test holds the
// program to these files, so a restructuring cannot change a graph unnoticed; a deliberate change of
// the graph is made by running this command and committing the new files with the change.
import * as fs from "fs";
import * as path from "path";
import { runLabUnderMocks } from "../policy/offline/mockedLab";

export const SNAPSHOT_STACKS = ["dev", "ci", "swarm"] as const;
const REPO_ROOT = path.resolve(__dirname, "..");
export const SNAPSHOT_DIR = path.join(REPO_ROOT, "tests", "fixtures", "graphs");

/** Sorted keys, the checkout's own path spelled `<repo>`: the same graph gives the same text in any clone. */
function canonical(value: unknown): unknown {
  if (typeof value === "string") return value.split(REPO_ROOT).join("<repo>");
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The mocked graph of `stack` as the text a snapshot file holds. */
export async function graphSnapshot(stack: string): Promise<string> {
  const run = await runLabUnderMocks(stack);
  const resources = run.resources
    .map(({ type, name, custom, parent, dependsOn, inputs, ignoreChanges, options }) => ({ type, name, custom, parent, dependsOn, inputs, ignoreChanges, options }))
    .sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
  return `${JSON.stringify(canonical({ stack, resources, outputs: run.outputs }), null, 2)}\n`;
}

export function snapshotFile(stack: string): string {
  return path.join(SNAPSHOT_DIR, `${stack}.json`);
}

async function main(): Promise<void> {
  for (const stack of SNAPSHOT_STACKS) {
    const text = await graphSnapshot(stack);
    fs.writeFileSync(snapshotFile(stack), text);
    console.log(`${path.relative(process.cwd(), snapshotFile(stack))}: ${JSON.parse(text).resources.length} resources`);
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
