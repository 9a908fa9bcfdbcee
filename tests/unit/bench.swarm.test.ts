import * as assert from "assert";
import { BenchOptions, parseArgs } from "../../bench/cli/args";
import { UsageError } from "../../bench/errors";
import { PreparedVariant } from "../../bench/reach/prepare";
import { parseTaskRow, serviceOfUrl } from "../../bench/reach/swarm";
import { swarmPath } from "../../bench/reach/swarmPath";
import { makeVariant } from "./bench-fixtures";

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

describe("bench --path swarm", () => {
  const NOW = new Date("2026-11-28T08:00:00.000Z");
  const stack = ["--stack", "swarm", "--path", "swarm"];

  it("needs the stack's overlay network and the manager's engine", () => {
    const usage = (argv: string[], message: RegExp) => assert.throws(() => parseArgs(argv, NOW), (e: unknown) => e instanceof UsageError && message.test(e.message));
    usage(stack, /--path swarm needs --swarm-network NAME/);
    const saved = process.env.DOCKER_HOST;
    delete process.env.DOCKER_HOST;
    try {
      usage([...stack, "--swarm-network", "optivolt-swarm"], /--path swarm needs the manager's engine/);
    } finally {
      if (saved !== undefined) process.env.DOCKER_HOST = saved;
    }
    const options = parseArgs([...stack, "--swarm-network", "optivolt-swarm", "--swarm-host", "tcp://127.0.0.1:23750"], NOW) as BenchOptions;
    assert.deepStrictEqual(options.swarm, { host: "tcp://127.0.0.1:23750", network: "optivolt-swarm" });
  });

  it("sends each variant's load to its service on the overlay network, also when the stack's URL is a node address", async () => {
    const prepared = (name: string, status: "measured" | "refused" | "unreachable", detail: string | null) =>
      ({ result: makeVariant(name, 1, 256, [], { url: "http://10.87.0.2:28003", status, detail }), load: null }) as unknown as PreparedVariant;
    const minimal = prepared("minimal", "refused", "refusing to send load to 10.87.0.2: only loopback addresses may be load-tested");
    const gone = prepared("microvm", "unreachable", "http://10.87.0.2:28002: connection refused");
    await swarmPath({ host: "tcp://127.0.0.1:23750", network: "optivolt-swarm", image: "wrk:1" }).attach([minimal, gone]);
    assert.strictEqual(minimal.result.status, "measured");
    assert.strictEqual(minimal.load?.url, "http://optivolt-swarm-minimal:8000");
    assert.match(minimal.result.networkPath ?? "", /Swarm task on an optivolt.role=loadgen node → optivolt-swarm-minimal:8000 on overlay optivolt-swarm/);
    assert.strictEqual(gone.result.status, "unreachable", "a variant whose URL does not answer is not measured");
    assert.strictEqual(gone.load, null);
  });
});
