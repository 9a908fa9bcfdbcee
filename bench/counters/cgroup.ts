/**
 * A container's CPU and memory counters read from its cgroup files: the same counters the Docker
 * engine reports, without the engine's stats collector, which answers only on its 1 s tick.
 */
import * as fs from "fs";
import * as path from "path";

export interface CgroupFiles {
  version: 1 | 2;
  /** v1: cpuacct.usage (ns); v2: cpu.stat (usage_usec). */
  cpuFile: string;
  /** v1: the memory controller's directory; v2: the unified directory. */
  memoryDir: string;
}

/**
 * Locates the cgroup files from the text of /proc/<pid>/cgroup. Null when the process sits in a
 * private cgroup namespace (its paths read "/"), which gives no way to find them from the host.
 */
export function cgroupFiles(procCgroup: string, root = "/sys/fs/cgroup"): CgroupFiles | null {
  const lines = procCgroup.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [, controllers, ...rest] = l.split(":");
    return { controllers: controllers.split(","), path: rest.join(":") };
  });
  const v1 = (controller: string) => lines.find((l) => l.controllers.includes(controller));
  const cpuacct = v1("cpuacct");
  const memory = v1("memory");
  if (cpuacct !== undefined && memory !== undefined) {
    if (cpuacct.path === "/" || memory.path === "/") return null;
    const cpuMount = fs.existsSync(path.join(root, "cpuacct")) ? "cpuacct" : "cpu,cpuacct";
    return { version: 1, cpuFile: path.join(root, cpuMount, cpuacct.path, "cpuacct.usage"), memoryDir: path.join(root, "memory", memory.path) };
  }
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === "");
  if (unified === undefined || unified.path === "/") return null;
  const dir = path.join(root, unified.path);
  return { version: 2, cpuFile: path.join(dir, "cpu.stat"), memoryDir: dir };
}

/** Value of one `key value` line of a cgroup stat file. */
export function statValue(text: string, key: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line === undefined ? null : Number(line.slice(key.length + 1));
}

/** Cumulative CPU time in nanoseconds. */
export function readCpuNs(files: CgroupFiles): number {
  const text = fs.readFileSync(files.cpuFile, "utf8");
  if (files.version === 1) return Number(text.trim());
  const usec = statValue(text, "usage_usec");
  if (usec === null) throw new Error(`${files.cpuFile} has no usage_usec`);
  return usec * 1000;
}

/** Memory in use the way `docker stats` counts it: usage minus inactive page cache. */
export function readMemoryBytes(files: CgroupFiles): number {
  const usage = Number(fs.readFileSync(path.join(files.memoryDir, files.version === 1 ? "memory.usage_in_bytes" : "memory.current"), "utf8").trim());
  const stat = fs.readFileSync(path.join(files.memoryDir, "memory.stat"), "utf8");
  const inactive = (files.version === 1 ? statValue(stat, "total_inactive_file") : null) ?? statValue(stat, "inactive_file") ?? 0;
  return Math.max(0, usage - inactive);
}

/** The cgroup files of a process, checked readable; null when they cannot be used from here. */
export function locateCgroup(pid: number): CgroupFiles | null {
  try {
    const files = cgroupFiles(fs.readFileSync(`/proc/${pid}/cgroup`, "utf8"));
    if (files === null) return null;
    readCpuNs(files);
    readMemoryBytes(files);
    return files;
  } catch {
    return null;
  }
}
