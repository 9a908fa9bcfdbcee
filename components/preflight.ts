import * as net from "net";
import { docker, DockerCommandError } from "../tooling/docker";
import { LabConfig } from "../model/config";
import { SwarmNode } from "./swarm/services";
import { parseNodes, parseRegistryTrust, swarmPreflight, SwarmProbes } from "./swarm/preflight";

/** A check that failed before anything was deployed; its message says what and how to fix it. */
export class PreflightError extends Error {
  constructor(
    public readonly problems: readonly string[],
    stackName: string,
  ) {
    super(
      `The lab cannot be deployed to stack "${stackName}" as things stand (nothing was created):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "PreflightError";
  }
}

/** A host port some container publishes. */
export interface PublishedPort {
  container: string;
  address: string;
  port: number;
}

/** What the engine tells about itself that shapes the plan. */
export interface EngineFacts {
  /** `os/arch` the engine runs (`docker version`'s Server.Os/Server.Arch), e.g. linux/amd64: what images build for unless config says otherwise. */
  platform: string;
  /** Whether the engine can limit swap (`docker info`'s SwapLimit); without it a `memorySwap` reads back as -1 on every refresh. */
  swapLimit: boolean;
}

/** What the preflight asks of the machine; tests pass fakes. */
export interface PreflightProbes {
  /** Resolves with the engine version, or rejects with Docker's own words. */
  engineVersion(dockerHost: string | undefined): Promise<string>;
  /** The engine's platform and swap accounting (asked once the engine answers). */
  engineFacts(dockerHost: string | undefined): Promise<EngineFacts>;
  /** Every host port published by any container on the engine (running or stopped). */
  publishedPorts(dockerHost: string | undefined): Promise<PublishedPort[]>;
  /** Resolves with undefined when `address:port` can be bound on this machine, else the error code. */
  bindError(address: string, port: number): Promise<string | undefined>;
  /** Swarm stacks: the manager's nodes and registry trust (the system's own when absent). */
  swarm?: SwarmProbes;
}

/** What the preflight learnt that the program uses: the engine's facts, and a swarm's nodes. */
export interface PreflightFacts {
  engine: EngineFacts;
  swarmNodes?: SwarmNode[];
}

/** A host port the config gives to one service. */
export interface PortClaim {
  port: number;
  owner: string;
}

/**
 * Host ports the lab's containers publish. The unikernel's port is left to its own component:
 * on a second `up` its running VM holds the port, and nothing outside that component can tell.
 */
export function containerPortClaims(config: LabConfig): PortClaim[] {
  const claims = Object.entries(config.variants).map(([name, spec]) => ({ port: spec.hostPort, owner: `variant ${name}` }));
  if (config.monitoring.enabled) {
    claims.push(
      { port: config.monitoring.prometheus.port, owner: "Prometheus" },
      { port: config.monitoring.cadvisor.port, owner: "cAdvisor" },
      { port: config.monitoring.grafana.port, owner: "Grafana" },
    );
  }
  return claims;
}

/** True when the engine is this machine's, so a host port free here is free for the engine too. */
export function isLocalEngine(dockerHost: string | undefined): boolean {
  if (dockerHost === undefined || dockerHost.startsWith("unix://") || dockerHost.startsWith("npipe://")) return true;
  return /^tcp:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/?$/.test(dockerHost);
}

/** Containers named `<networkName>-...` are this lab's own (variants and monitoring), so their ports are not conflicts. */
function isLabContainer(config: LabConfig, container: string): boolean {
  return container.startsWith(`${config.networkName}-`);
}

export interface PreflightOptions {
  /**
   * false on a preview: it reads the engine's facts (they shape the plan) but creates nothing, so
   * what would collide (host ports; on a swarm, placement and registry) is not its business. Default true.
   */
  deploying?: boolean;
}

/**
 * Checks, before any resource is created, that the Docker engine answers and reads its facts; when
 * deploying, also that no other container or process holds a host port the lab publishes (on a
 * swarm: placement and registry). Throws one PreflightError listing every problem.
 */
export async function runPreflight(
  config: LabConfig,
  probes: PreflightProbes = systemProbes,
  environment: NodeJS.ProcessEnv = process.env,
  options: PreflightOptions = {},
): Promise<PreflightFacts> {
  // Like the Docker provider: docker:host first, else DOCKER_HOST, else the local socket.
  const engine = config.dockerHost ?? environment.DOCKER_HOST;
  const where = engine ?? "the local socket (unix:///var/run/docker.sock)";
  try {
    await probes.engineVersion(config.dockerHost);
  } catch (error) {
    const detail = error instanceof Error ? error.message.trim() : String(error);
    throw new PreflightError(
      [
        `no Docker engine answered at ${where}: ${detail}. Start it (\`sudo systemctl start docker\`, or \`sudo dockerd &\`), ` +
          `check that \`docker info\` works for this user, or set docker:host in Pulumi.${config.stackName}.yaml ` +
          "(`pulumi config set docker:host ssh://user@host`) to an engine that runs.",
      ],
      config.stackName,
    );
  }

  const engineFacts = await probes.engineFacts(config.dockerHost);
  if (options.deploying === false) return { engine: engineFacts };
  if (config.engine === "swarm") return { engine: engineFacts, ...(await checkSwarm(config, probes.swarm ?? systemSwarmProbes)) };
  await checkHostPorts(config, probes, engine);
  return { engine: engineFacts };
}

/** Throws a PreflightError when another container or process holds a host port the lab publishes. */
async function checkHostPorts(config: LabConfig, probes: PreflightProbes, engine: string | undefined): Promise<void> {
  const problems: string[] = [];
  const published = await probes.publishedPorts(config.dockerHost);
  const local = isLocalEngine(engine);
  for (const claim of containerPortClaims(config)) {
    const holders = published.filter(
      (p) => p.port === claim.port && (p.address === config.bindAddress || p.address === "0.0.0.0" || config.bindAddress === "0.0.0.0"),
    );
    if (holders.some((h) => isLabContainer(config, h.container))) continue; // already ours: an update, not a conflict
    const fix = `stop it, or give ${claim.owner} another port in Pulumi.${config.stackName}.yaml`;
    if (holders.length > 0) {
      problems.push(`host port ${claim.port} (for ${claim.owner}) is already published by container ${holders[0].container}; ${fix}`);
      continue;
    }
    if (!local) continue; // a remote engine's host ports cannot be probed from here beyond its containers
    const error = await probes.bindError(config.bindAddress, claim.port);
    if (error === "EADDRNOTAVAIL") {
      problems.push(
        `optivolt:bindAddress ${config.bindAddress} is not an address of this machine, so ${claim.owner} cannot publish on it; ` +
          "use 127.0.0.1 (loopback only) or one of this machine's addresses",
      );
      break;
    }
    if (error !== undefined) {
      problems.push(`host port ${claim.port} on ${config.bindAddress} (for ${claim.owner}) is taken by another process (${error}); ${fix} (\`ss -ltnp\` shows who holds it)`);
    }
  }
  if (problems.length > 0) throw new PreflightError(problems, config.stackName);
}

/**
 * A swarm publishes its ports on the nodes, not on this machine or the manager alone, so the port
 * checks above do not apply; placement and registry checks do (components/swarm/preflight.ts).
 */
async function checkSwarm(config: LabConfig, probes: SwarmProbes): Promise<Omit<PreflightFacts, "engine">> {
  const { nodes, problems } = await swarmPreflight(config, probes);
  if (problems.length > 0) throw new PreflightError(problems, config.stackName);
  return { swarmNodes: nodes };
}

async function dockerCli(args: string[], dockerHost: string | undefined): Promise<string> {
  try {
    return (await docker(args, { dockerHost, timeoutMs: 30_000 })).stdout;
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw new Error(error.exitCode === "ENOENT" ? "the docker CLI is not installed (see `npm run doctor`)" : error.reason);
  }
}

/** Parses `docker ps --format '{{.Names}}\t{{.Ports}}'` lines, e.g. `lab-minimal\t127.0.0.1:8003->8000/tcp`. */
export function parsePublishedPorts(psOutput: string): PublishedPort[] {
  const ports: PublishedPort[] = [];
  for (const line of psOutput.split("\n")) {
    const [container, portList] = line.split("\t");
    if (!container || !portList) continue;
    for (const match of portList.matchAll(/(\d{1,3}(?:\.\d{1,3}){3}|\[?::\]?):(\d+)(?:-(\d+))?->/g)) {
      const first = Number(match[2]);
      const last = match[3] === undefined ? first : Number(match[3]);
      const address = match[1].includes(":") ? "0.0.0.0" : match[1];
      for (let port = first; port <= last; port++) ports.push({ container, address, port });
    }
  }
  return ports;
}

/** Parses `docker info --format '{{.SwapLimit}}'`. */
export function parseSwapLimit(text: string): boolean {
  const value = text.trim();
  if (value !== "true" && value !== "false") throw new Error(`unexpected SwapLimit from docker info: ${JSON.stringify(value)}`);
  return value === "true";
}

/** The manager's view of the swarm, through the docker CLI. */
export const systemSwarmProbes: SwarmProbes = {
  nodes: async (dockerHost) => {
    const ids = (await dockerCli(["node", "ls", "--quiet"], dockerHost)).split("\n").filter((id) => id.trim() !== "");
    return parseNodes(await dockerCli(["node", "inspect", ...ids], dockerHost));
  },
  registryTrust: async (dockerHost) => parseRegistryTrust(await dockerCli(["info", "--format", "{{json .RegistryConfig}}"], dockerHost)),
};

/** The real probes: the docker CLI (which honours DOCKER_HOST and ssh:// addresses) and a test bind. */
export const systemProbes: PreflightProbes = {
  engineVersion: async (dockerHost) => (await dockerCli(["version", "--format", "{{.Server.Version}}"], dockerHost)).trim(),
  engineFacts: async (dockerHost) => {
    const [platform, swapLimit] = await Promise.all([
      dockerCli(["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"], dockerHost),
      dockerCli(["info", "--format", "{{.SwapLimit}}"], dockerHost),
    ]);
    return { platform: platform.trim(), swapLimit: parseSwapLimit(swapLimit) };
  },
  publishedPorts: async (dockerHost) => parsePublishedPorts(await dockerCli(["ps", "--all", "--format", "{{.Names}}\t{{.Ports}}"], dockerHost)),
  bindError: (address, port) =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
    }),
};
