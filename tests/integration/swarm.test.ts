// The lab on a real three-node swarm (npm run swarm:lab, Docker-in-Docker nodes on this machine).
// The Pulumi CLI cannot run here, so the suite creates the program's declared resources through the
// manager's engine API the way the Docker provider does, then checks placement, limits read back
// from each task's container and cgroup, every route on the host-mode ports, Prometheus's swarm
// discovery, a rolling update under load, a bench with its generator on the loadgen node, and `down`.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { APP_PORT } from "../../model/naming";
import { DEFAULT_GENERATOR_IMAGE } from "../../bench/cli/args";
import { PreparedVariant } from "../../bench/reach/prepare";
import { SwarmLoadOutcome } from "../../bench/reach/swarm";
import { swarmPath } from "../../bench/reach/swarmPath";
import { docker, ensureWebApiImages, httpRequest, requireDockerEngine, testImageTag, until } from "./support";
import {
  inNode,
  LAB_NODES,
  LabNode,
  loadImagesIntoNode,
  managerApi,
  nodeAddress,
  nodeContainer,
  serviceRunning,
  serviceTasks,
  SwarmLab,
  swarmLabDown,
  swarmLabUp,
  SwarmNode,
  swarmNodes,
} from "./support/swarmLab";
import { createConfig, createNetwork, createService, CreatedIds, readBackDiffs, updateServiceImage, updateState } from "./support/swarmServices";
import { DeclaredLab, declaredSwarmLab, LOCAL_PROMETHEUS_IMAGE } from "./support/swarmDeclared";

/** The bench's generator image, which `swarm:lab up` loads into the loadgen node. */
const LOADGEN_IMAGE = process.env.OPTIVOLT_LOADGEN_IMAGE ?? DEFAULT_GENERATOR_IMAGE;
/** The Docker engine API's TCP ports (plain and TLS): no node may answer on either. */
const ENGINE_TCP_PORTS = [2375, 2376];
/** Tries a TCP connection; "open", or why not. */
function tcpProbe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.on("connect", () => (socket.destroy(), resolve("open")));
    socket.on("timeout", () => (socket.destroy(), resolve("timeout")));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
/** The same probe as a script for `node -e` in a task: prints `{ "host:port": outcome }` as JSON. */
const TASK_PROBE_SCRIPT = (targets: string[]) => `
const net = require("net");
const probe = (target) => new Promise((resolve) => {
  const [host, port] = target.split(":");
  const socket = net.connect({ host, port: Number(port), timeout: 3000 });
  socket.on("connect", () => (socket.destroy(), resolve("open")));
  socket.on("timeout", () => (socket.destroy(), resolve("timeout")));
  socket.on("error", (error) => resolve(error.code || error.message));
});
Promise.all(${JSON.stringify(targets)}.map(async (t) => [t, await probe(t)])).then((r) => console.log("probe " + JSON.stringify(Object.fromEntries(r))));
`;
const ROUTES: [string, number][] = [["/", 200], ["/api/light", 200], ["/api/heavy", 200], ["/api/slow", 200], ["/health", 200], ["/metrics", 200], ["/no-such-route", 404]];

/** What support/steadyLoadClient.js prints when stopped. */
interface SteadyLoadCounts {
  answered: number;
  lost: number;
  lostBy: Record<string, number>;
  retried: number;
  retriedBy: Record<string, number>;
}

interface TaskContainer {
  Id: string;
  HostConfig: { NanoCpus: number; Memory: number };
}

describe("swarm lab (integration): the program's services on a real three-node swarm", function () {
  this.timeout(15 * 60_000);
  const name = `ovtest-swarm-lab-${process.pid}`;
  const options = { name, subnet: `10.87.${100 + (process.pid % 150)}.0/24` };
  let lab: SwarmLab;
  let declared: DeclaredLab;
  /** Mock IDs (what the recorded inputs refer to) → the real IDs on the lab. */
  const ids: CreatedIds = new Map();
  let nodes: SwarmNode[] = [];
  /** The node containers' IDs on the host engine, which name their cgroups. */
  const nodeIds: string[] = [];
  const nodeOf = (id: string) => nodes.find((n) => n.ID === id)!;
  const labNodeOf = (hostname: string) => LAB_NODES.find((n) => nodeContainer(lab, n) === hostname) as LabNode;

  before(async () => {
    await requireDockerEngine();
    const started = Date.now();
    lab = await swarmLabUp(options);
    console.log(`      lab up in ${((Date.now() - started) / 1000).toFixed(1)} s:\n${lab.upLog.replace(/^/gm, "        ")}`);
    nodes = await swarmNodes(lab);
    for (const node of LAB_NODES) nodeIds.push((await docker(["container", "inspect", "--format", "{{.Id}}", nodeContainer(lab, node)])).stdout.trim());

    const images = await ensureWebApiImages();
    const loadStarted = Date.now();
    await loadImagesIntoNode(lab, "manager", Object.values(images));
    console.log(`      web API images loaded into the manager in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`);

    declared = await declaredSwarmLab(lab);
    await createNetwork(lab, declared.network, declared.network.mockId, ids);
    await createService(lab, declared.registry, ids);
    await serviceRunning(lab, declared.registry.name, 1);
    // What each variant's docker.Image does on the manager's engine: tag for the registry, push, and
    // hand its digest to the service.
    for (const [variant, target] of Object.entries(declared.targets)) {
      declared.variants[variant].taskSpec.containerSpec.image = await pushToRegistry(testImageTag(target), declared.images[variant]);
    }
    const servicesStarted = Date.now();
    for (const service of Object.values(declared.variants)) await createService(lab, service, ids);
    for (const service of Object.values(declared.variants)) await serviceRunning(lab, service.name, service.mode.replicated.replicas);
    console.log(`      variant services running ${((Date.now() - servicesStarted) / 1000).toFixed(1)} s after creation`);
  });

  after(async () => {
    // Also after a failed or half-finished `up`: down removes whatever exists under the suite's name.
    await swarmLabDown(options).catch((error) => console.error(`      swarm-lab down failed: ${String(error)}`));
  });

  /** Tags a manager image for the lab registry, pushes it, and returns the pinned reference. */
  async function pushToRegistry(local: string, remote: string): Promise<string> {
    await inNode(lab, "manager", ["tag", local, remote]);
    await until(`push of ${remote}`, 60_000, async () => (await inNode(lab, "manager", ["push", remote])).stdout);
    const digests = (await inNode(lab, "manager", ["image", "inspect", "--format", "{{json .RepoDigests}}", remote])).stdout;
    const digest = (JSON.parse(digests) as string[]).find((d) => d.startsWith(`${lab.registry}/`));
    assert.ok(digest, `no registry digest for ${remote}: ${digests}`);
    return digest;
  }

  it("a second `up` would change nothing: what the provider reads back of each service is what the program declared", async () => {
    for (const service of [declared.registry, ...Object.values(declared.variants)]) {
      assert.deepStrictEqual(await readBackDiffs(lab, service), [], service.name);
    }
    const variant = declared.variants[declared.rollingVariant];
    assert.deepStrictEqual(variant.taskSpec.placement.platforms, [{ os: "linux", architecture: "amd64" }], "the platform Docker records for the pushed image");
  });

  it("the registry refuses to delete an image (deletes are off: nothing of the lab deletes through it)", async () => {
    const image = declared.variants[declared.rollingVariant].taskSpec.containerSpec.image as string;
    const [repository, digest] = image.slice(lab.registry.length + 1).split("@");
    const answer = await httpRequest(`http://${lab.registry}/v2/${repository}/manifests/${digest}`, { method: "DELETE" });
    assert.strictEqual(answer.status, 405, answer.body.toString());
    assert.match(answer.body.toString(), /UNSUPPORTED/);
    assert.strictEqual((await httpRequest(`http://${lab.registry}/v2/${repository}/manifests/${digest}`, { method: "HEAD" })).status, 200, "still there");
  });

  it("no node's engine answers on TCP, from the host or from a task; the manager's answers on its socket, to root and the host socket's group only", async () => {
    const targets = LAB_NODES.flatMap((node) => ENGINE_TCP_PORTS.map((port) => `${nodeAddress(lab, node)}:${port}`));
    const fromHost = Object.fromEntries(await Promise.all(targets.map(async (t) => [t, await tcpProbe(t.split(":")[0], Number(t.split(":")[1]))])));
    // A global job: one task on every node, on the lab's overlay network, where the variants' tasks are.
    const job = `${name}-engine-probe`;
    const image = declared.variants[declared.rollingVariant].taskSpec.containerSpec.image;
    await managerApi(lab, "POST", "/services/create", {
      Name: job,
      Mode: { GlobalJob: {} },
      TaskTemplate: { ContainerSpec: { Image: image, Command: ["node", "-e", TASK_PROBE_SCRIPT(targets)] }, Networks: [{ Target: declared.network.name }], RestartPolicy: { Condition: "none" } },
    });
    try {
      const lines = await until("the probe on every node", 120_000, async () => {
        const out = (await inNode(lab, "manager", ["service", "logs", "--raw", job])).stdout.split("\n").filter((l) => l.startsWith("probe "));
        return out.length === LAB_NODES.length ? out : undefined;
      });
      const fromTasks = lines.map((line) => JSON.parse(line.slice("probe ".length)) as Record<string, string>);
      console.log(`      engine TCP ports from the host: ${JSON.stringify(fromHost)}; from a task on each node: ${JSON.stringify(fromTasks)}`);
      for (const outcomes of [fromHost, ...fromTasks]) assert.deepStrictEqual(Object.entries(outcomes).filter(([, outcome]) => outcome === "open"), []);
    } finally {
      await managerApi(lab, "DELETE", `/services/${job}`).catch(() => undefined);
    }
    // The manager's socket: the owner and group of the host's own, mode 0660; refused to anyone else.
    const socket = fs.statSync(lab.socket);
    const hostSocket = fs.statSync("/var/run/docker.sock");
    assert.deepStrictEqual({ mode: socket.mode & 0o777, uid: socket.uid, gid: socket.gid }, { mode: 0o660, uid: 0, gid: hostSocket.gid });
    const connect = `require("net").connect(${JSON.stringify(lab.socket)}).on("connect", () => (console.log("connected"), process.exit(0))).on("error", (e) => (console.log(e.code), process.exit(0)))`;
    const nobody = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", connect], { encoding: "utf8" });
    assert.strictEqual(nobody.stdout.trim(), "EACCES", nobody.stderr);
    assert.ok((await managerApi<{ Swarm: { ControlAvailable: boolean } }>(lab, "GET", "/info")).Swarm.ControlAvailable, "root reaches the manager");
  });

  it("runs every variant's tasks on optivolt.role=lab nodes, under the declared limits (task container and cgroup)", async () => {
    for (const service of Object.values(declared.variants)) {
      const limits = service.taskSpec.resources.limits;
      const tasks = await serviceTasks(lab, service.name, "running");
      assert.strictEqual(tasks.length, service.mode.replicated.replicas);
      for (const task of tasks) {
        const node = nodeOf(task.NodeID);
        assert.strictEqual(node.Spec.Labels["optivolt.role"], "lab", `${service.name} runs on ${node.Description.Hostname}`);
        assert.match(task.Spec.ContainerSpec.Image, new RegExp(`^${lab.registry}/optivolt-webapi@sha256:`), "the registry digest every node pulls");
        const containerId = task.Status.ContainerStatus!.ContainerID;
        const labNode = labNodeOf(node.Description.Hostname);
        const [inspect] = JSON.parse((await inNode(lab, labNode, ["container", "inspect", containerId])).stdout) as TaskContainer[];
        assert.strictEqual(inspect.HostConfig.NanoCpus, limits.nanoCpus);
        assert.strictEqual(inspect.HostConfig.Memory, limits.memoryBytes);
        // The node's engine puts its tasks' cgroups under the node container's own (see node-entrypoint.sh).
        const nodeId = nodeIds[LAB_NODES.indexOf(labNode)];
        const cgroup = (controller: string, file: string) => Number(fs.readFileSync(`/sys/fs/cgroup/${controller}/docker/${nodeId}/${containerId}/${file}`, "utf8"));
        assert.strictEqual((cgroup("cpu", "cpu.cfs_quota_us") / cgroup("cpu", "cpu.cfs_period_us")) * 1e9, limits.nanoCpus);
        assert.strictEqual(cgroup("memory", "memory.limit_in_bytes"), limits.memoryBytes);
      }
    }
  });

  it("serves every route on each task's host-mode port, reached from the host at the node's address", async () => {
    for (const service of Object.values(declared.variants)) {
      const published = service.endpointSpec.ports[0].publishedPort;
      for (const task of await serviceTasks(lab, service.name, "running")) {
        const address = nodeAddress(lab, labNodeOf(nodeOf(task.NodeID).Description.Hostname));
        for (const [route, status] of ROUTES) {
          const answer = await httpRequest(`http://${address}:${published}${route}`, { timeoutMs: 10_000 });
          assert.strictEqual(answer.status, status, `${service.name} ${route} on ${address}:${published}`);
        }
      }
    }
  });

  it("Prometheus's swarm discovery (dockerswarm_sd_configs, tasks role) lists every variant task up", async () => {
    // Prometheus runs as the program declares it (a task on the manager, on the lab network, reading
    // the manager's engine socket), with its generated config; only the image is the local one.
    for (const config of declared.prometheusConfigs) await createConfig(lab, config, config.mockId, ids);
    const prometheus = declared.prometheus;
    prometheus.taskSpec.containerSpec.image = LOCAL_PROMETHEUS_IMAGE;
    await createService(lab, prometheus, ids);
    await serviceRunning(lab, declared.prometheus.name, 1);
    const expected = Object.values(declared.variants).reduce((sum, s) => sum + s.mode.replicated.replicas, 0);
    const targets = await until("every variant task up in Prometheus", 90_000, async () => {
      const url = `http://${nodeAddress(lab, "manager")}:${declared.prometheus.endpointSpec.ports[0].publishedPort}/api/v1/targets?state=active`;
      const body = JSON.parse((await httpRequest(url)).body.toString()) as { data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] } };
      const web = body.data.activeTargets.filter((t) => t.labels.variant !== undefined);
      return web.length === expected && web.every((t) => t.health === "up") ? web : undefined;
    });
    const seen = new Set(targets.map((t) => t.labels.variant));
    assert.deepStrictEqual([...seen].sort(), Object.keys(declared.variants).sort());
    for (const target of targets) assert.ok(nodes.some((n) => n.Description.Hostname === target.labels.node), `node label ${target.labels.node}`);
  });

  it("rolls one variant to a new image under steady light load without losing a request", async () => {
    const variant = declared.rollingVariant;
    const service = declared.variants[variant];
    // A new image: the same target with one more layer, pushed to the registry (a new digest).
    const base = service.taskSpec.containerSpec.image;
    await inNode(lab, "manager", ["pull", base]);
    const build = `FROM ${base}\nLABEL optivolt.test.revision=2\n`;
    await docker(["exec", "-i", nodeContainer(lab, "manager"), "sh", "-c", `printf '${build.replace(/\n/g, "\\n")}' | docker build -q -t optivolt-webapi-rolled -`]);
    const next = await pushToRegistry("optivolt-webapi-rolled", `${lab.registry}/optivolt-webapi:${variant}-rolled`);

    // Steady light load from a container on the overlay network on the loadgen node: one request per
    // 50 ms, each on a new connection to the service name (dnsrr: DNS gives the tasks' addresses).
    // The client is the web API image itself (it has node), pulled by the loadgen node from the registry.
    const client = `${name}-steady-load`;
    const script = fs.readFileSync(path.join(__dirname, "support", "steadyLoadClient.js"), "utf8");
    const env = { TARGET_HOST: service.name, TARGET_PORT: String(APP_PORT), INTERVAL_MS: "50" };
    await inNode(lab, "worker2", ["run", "--detach", "--name", client, "--network", declared.network.name, ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]), "--entrypoint", "node", base, "-e", script]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await updateServiceImage(lab, service.name, next);
      const state = await until(`rolling update of ${service.name}`, 240_000, async () => {
        const current = await updateState(lab, service.name);
        return current !== undefined && current !== "updating" ? current : undefined;
      });
      assert.strictEqual(state, "completed");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await inNode(lab, "worker2", ["stop", "--time", "10", client]);
      const counts = JSON.parse((await inNode(lab, "worker2", ["logs", client])).stdout.trim().split("\n").pop()!) as SteadyLoadCounts;
      console.log(
        `      rolling update of ${variant}: ${counts.answered} requests answered, ${counts.lost} lost ${JSON.stringify(counts.lostBy)}; ` +
          `${counts.retried} connections retried before sending ${JSON.stringify(counts.retriedBy)}`,
      );
      assert.strictEqual(counts.lost, 0, `lost requests: ${JSON.stringify(counts.lostBy)}`);
      assert.ok(counts.answered > 50, `only ${counts.answered} requests went out`);
      const tasks = await serviceTasks(lab, service.name, "running");
      assert.ok(tasks.every((t) => t.Spec.ContainerSpec.Image === next), "every task runs the new image");
    } finally {
      await inNode(lab, "worker2", ["rm", "--force", client]).catch(() => undefined);
    }
  });

  it("a quick bench (--path swarm) runs its generator as a task on the loadgen node, against a variant on lab nodes", async () => {
    const variant = declared.rollingVariant;
    const prepared = { result: { name: variant, status: "measured", detail: null, networkPath: null, generator: null }, load: null } as unknown as PreparedVariant;
    await swarmPath({ host: lab.dockerHost, network: declared.network.name, image: LOADGEN_IMAGE }).attach([prepared]);
    const load = prepared.load!;
    assert.strictEqual(load.url, `http://${declared.variants[variant].name}:${APP_PORT}`, "the variant's service on the overlay network");
    const outcome = await load.engine.run({ url: `${load.url}/api/light`, connections: 8, threads: 1, durationSeconds: 3, timeoutSeconds: 5, signal: new AbortController().signal });
    const { generatorNode, targetNodes } = outcome as SwarmLoadOutcome;
    console.log(
      `      bench on the swarm: ${outcome.responses} responses in ${outcome.durationSeconds.toFixed(1)} s ` +
        `(${(outcome.responses / outcome.durationSeconds).toFixed(0)} req/s, p99 ${outcome.latencyMs.p99.toFixed(1)} ms); ${prepared.result.networkPath}`,
    );
    assert.ok(outcome.responses > 0);
    assert.deepStrictEqual(outcome.errors, { connect: 0, socket: 0, timeouts: 0, non2xx: 0 });
    const role = (hostname: string) => nodes.find((n) => n.Description.Hostname === hostname)?.Spec.Labels["optivolt.role"];
    assert.strictEqual(role(generatorNode), "loadgen");
    assert.ok(targetNodes.length > 0 && targetNodes.every((hostname) => role(hostname) === "lab"), `variant on ${targetNodes.join(", ")}`);
    assert.match(prepared.result.networkPath ?? "", new RegExp(`Swarm task on ${generatorNode} .* task\\(s\\) on ${targetNodes.join(", ")}$`));
    assert.strictEqual((await managerApi<unknown[]>(lab, "GET", `/services?filters=${encodeURIComponent(JSON.stringify({ label: ["optivolt.role=loadgen"] }))}`)).length, 0, "the job is removed");
  });

  it("down removes every node, volume and network of the lab", async () => {
    const report = await swarmLabDown(options);
    console.log(`      ${report.trim()}`);
    assert.strictEqual((await docker(["ps", "--all", "--quiet", "--filter", `label=optivolt.swarm-lab=${name}`])).stdout.trim(), "");
    assert.strictEqual((await docker(["volume", "ls", "--quiet", "--filter", `name=${name}`])).stdout.trim(), "");
    assert.strictEqual((await docker(["network", "ls", "--quiet", "--filter", `name=${name}`])).stdout.trim(), "");
    assert.strictEqual(fs.existsSync(path.dirname(lab.socket)), false, "the socket's folder is removed");
    // The tasks' cgroups lived under the node containers' own and went with them.
    assert.deepStrictEqual(fs.readdirSync("/sys/fs/cgroup/memory/docker").filter((d) => nodeIds.includes(d)), []);
  });
});
