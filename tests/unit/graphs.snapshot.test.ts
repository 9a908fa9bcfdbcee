// The mocked graphs of dev, ci and swarm, resource for resource, equal the committed snapshots in
// tests/fixtures/graphs/. A restructuring must leave them alone; a change that means to alter a graph
// regenerates them with `npm run graphs:snapshot` and commits the new files with the change, so the
// difference is reviewed like code.
import * as assert from "assert";
import * as fs from "fs";
import { graphSnapshot, SNAPSHOT_STACKS, snapshotFile } from "../../scripts/graphs";

describe("mocked graphs equal their committed snapshots", function () {
  this.timeout(60000);
  for (const stack of SNAPSHOT_STACKS) {
    it(`${stack}: every resource, parent, dependency, input, option and output as in tests/fixtures/graphs/${stack}.json`, async () => {
      const expected = JSON.parse(fs.readFileSync(snapshotFile(stack), "utf8"));
      const actual = JSON.parse(await graphSnapshot(stack));
      assert.deepStrictEqual(actual, expected, `the ${stack} graph changed; if that is meant, run npm run graphs:snapshot and commit the files`);
    });
  }
});
