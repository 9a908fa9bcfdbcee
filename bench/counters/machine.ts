/** Provenance of a run: the machine, the tool versions, the energy source. */
import * as fs from "fs";
import * as os from "os";
import { Provenance } from "../schema";

function osName(): string {
  try {
    const release = fs.readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release);
    if (pretty) return pretty[1];
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

export function describeMachine(): Provenance["machine"] {
  const cpus = os.cpus();
  return {
    os: osName(),
    kernel: os.release(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown CPU",
    cores: Math.max(1, cpus.length),
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
  };
}
