import * as assert from "assert";
import { parseTaskRow, serviceOfUrl } from "../../bench/swarm";

describe("bench on a swarm: reading the generator's task", () => {
  it("splits a `docker service ps` row into state, node and error", () => {
    assert.deepStrictEqual(parseTaskRow("Complete 2 seconds ago|lab-worker2|"), { state: "Complete 2 seconds ago", node: "lab-worker2", error: "" });
    assert.deepStrictEqual(parseTaskRow("Rejected 1 second ago|lab-worker2|No such image: wrk:x"), {
      state: "Rejected 1 second ago",
      node: "lab-worker2",
      error: "No such image: wrk:x",
    });
    assert.deepStrictEqual(parseTaskRow(""), { state: "", node: "", error: "" });
  });

  it("targets the service the URL names on the overlay network", () => {
    assert.strictEqual(serviceOfUrl("http://optivolt-swarm-minimal:8000/api/light"), "optivolt-swarm-minimal");
  });
});
