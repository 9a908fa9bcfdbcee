/**
 * Whether the local Docker engine relays published ports through its userland `docker-proxy`
 * (dockerd's `userland-proxy` setting, on by default). Loopback traffic to a published port then
 * crosses a user-space copy loop that issue 13 measured at ~0.8 of a core under load.
 */
import * as fs from "fs";

export interface UserlandProxyState {
  /** null: no way to tell from here (remote engine, dockerd not visible). */
  enabled: boolean | null;
  evidence: string;
}

interface Evidence {
  /** dockerd's argv, when its process is visible. */
  dockerdArgs: readonly string[] | null;
  /** Text of the daemon.json dockerd reads, when readable. */
  daemonJson: string | null;
  daemonJsonPath: string;
  /** docker-proxy processes running now. */
  proxyProcesses: number;
}

function flagValue(args: readonly string[], flag: string): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1] ?? "true";
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return null;
}

/** Decides from what is visible (pure). */
export function userlandProxyFrom(e: Evidence): UserlandProxyState {
  if (e.dockerdArgs !== null) {
    const flag = flagValue(e.dockerdArgs, "--userland-proxy");
    if (flag !== null) return { enabled: flag !== "false", evidence: `dockerd runs with --userland-proxy=${flag}` };
    if (e.daemonJson !== null) {
      try {
        const setting = (JSON.parse(e.daemonJson) as Record<string, unknown>)["userland-proxy"];
        if (typeof setting === "boolean") return { enabled: setting, evidence: `"userland-proxy": ${setting} in ${e.daemonJsonPath}` };
      } catch {
        // unreadable JSON: dockerd would refuse to start with it; fall through to the default
      }
    }
    return { enabled: true, evidence: `dockerd's default (no --userland-proxy flag, nothing in ${e.daemonJsonPath})` };
  }
  if (e.proxyProcesses > 0) return { enabled: true, evidence: `${e.proxyProcesses} docker-proxy process(es) running` };
  return { enabled: null, evidence: "dockerd is not visible from here and no docker-proxy runs" };
}

function procArgs(): { dockerd: string[] | null; proxies: number } {
  let dockerd: string[] | null = null;
  let proxies = 0;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return { dockerd, proxies };
  }
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
    } catch {
      continue;
    }
    const command = argv[0]?.split("/").pop();
    if (command === "dockerd") dockerd = argv.slice(1);
    else if (command === "docker-proxy") proxies += 1;
  }
  return { dockerd, proxies };
}

/** The local engine's setting, read from dockerd's command line and daemon.json. */
export function userlandProxyState(): UserlandProxyState {
  const { dockerd, proxies } = procArgs();
  const daemonJsonPath = (dockerd && flagValue(dockerd, "--config-file")) || "/etc/docker/daemon.json";
  let daemonJson: string | null = null;
  try {
    daemonJson = fs.readFileSync(daemonJsonPath, "utf8");
  } catch {
    // absent: the defaults apply
  }
  return userlandProxyFrom({ dockerdArgs: dockerd, daemonJson, daemonJsonPath, proxyProcesses: proxies });
}

/** One sentence for the doctor and the report. */
export function describeUserlandProxy(state: UserlandProxyState): string {
  if (state.enabled === null) return `unknown (${state.evidence})`;
  if (!state.enabled) return `off (${state.evidence}): published ports are forwarded by iptables, no user-space copy`;
  return (
    `on (${state.evidence}): loopback traffic to a published port is copied by docker-proxy in user space, ` +
    "which took ~0.8 of a core under load on a 2-core machine; the bench's default namespace path does not cross it"
  );
}
